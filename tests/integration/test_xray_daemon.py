"""The X-Ray daemon's port takes segments from the stack's owner only (issue 24, item 6: any local user's
forged segments were stored and served as the stack's traces).

Sent as another local user (``nobody``), exactly as an X-Ray SDK sends: one UDP datagram, the daemon's
header and a segment document.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time

import pytest

from harness import aws
from harness.emulator.services.xray.store import new_entity_id, new_trace_id
from testkit.polling import wait_for

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user"),
    pytest.mark.same_in_both_modes,
]

# Run as ``nobody`` by the system's Python: bind, send one datagram, then keep the socket open (so the
# daemon finds its sender) until the test closes standard input.
_SEND_AND_HOLD = """
import socket, sys
address, port, daemon_port, datagram = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sender.bind((address, port))
sender.sendto(datagram.encode(), ("127.0.0.1", daemon_port))
print("sent", flush=True)
sys.stdin.read()
"""


def datagram(trace_id: str) -> bytes:
    """A finished segment of ``trace_id`` as the X-Ray SDK sends it to the daemon."""
    now = time.time()
    segment = {"trace_id": trace_id, "id": new_entity_id(), "name": "a-function", "start_time": now}
    segment["end_time"] = now
    return b'{"format": "json", "version": 1}\n' + json.dumps(segment).encode()


@contextlib.contextmanager
def sent_as_nobody(address: str, port: int, daemon_port: int, payload: bytes):
    """``payload`` sent by ``nobody`` from ``address:port``, whose socket stays open inside the block."""
    script = (_SEND_AND_HOLD, address, str(port), str(daemon_port), payload.decode())
    sender = subprocess.Popen(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3", "-c", *script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sender.stdout.readline().strip() == "sent"
        yield
    finally:
        sender.stdin.close()
        sender.wait(timeout=30)


@pytest.mark.parametrize("bound_to", ["its own port", "the owners port on 127.0.0.2"])
def test_another_users_segments_are_not_the_stacks_traces(emulator, bound_to):
    """Sent from a port of its own, or from the very port an owner's socket uses on another loopback
    address (the source port alone would take it for the owner's)."""
    owner = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    owner.bind(("127.0.0.1", 0))
    forged, genuine = new_trace_id(), new_trace_id()
    address, port = ("127.0.0.1", 0) if bound_to == "its own port" else ("127.0.0.2", owner.getsockname()[1])
    xray = aws.client("xray", emulator.endpoint_url)
    with owner, sent_as_nobody(address, port, emulator.port, datagram(forged)):
        owner.sendto(datagram(genuine), ("127.0.0.1", emulator.port))
        # One socket, one reader: the forged datagram, sent first, has been read once the genuine is in.
        wait_for(lambda: xray.batch_get_traces(TraceIds=[genuine])["Traces"], what="the owner's segment")
        assert xray.batch_get_traces(TraceIds=[forged])["UnprocessedTraceIds"] == [forged]
        summaries = xray.get_trace_summaries(StartTime=time.time() - 60, EndTime=time.time())
        assert {summary["Id"] for summary in summaries["TraceSummaries"]} >= {genuine}
        assert forged not in {summary["Id"] for summary in summaries["TraceSummaries"]}
