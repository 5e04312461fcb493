"""The emulator's X-Ray store and daemon protocol (harness/emulator/services/xray/), without a server."""

from __future__ import annotations

import json
import os
import socket

import pytest

from harness.emulator.services.xray import service
from harness.emulator.services.xray.senders import SenderLookup
from harness.emulator.services.xray.store import (
    InvalidSegment,
    TraceHeader,
    TraceStore,
    new_entity_id,
    new_trace_id,
)


def test_a_trace_header_reads_and_writes_xrays_format():
    root = new_trace_id(0x6B0EA52A)
    assert root.startswith("1-6b0ea52a-") and len(root) == 35
    header = TraceHeader.parse(f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1")
    assert header == TraceHeader(root, "53995c3f42cd8ad8", True)
    assert str(header.child("aaaaaaaaaaaaaaaa")) == f"Root={root};Parent=aaaaaaaaaaaaaaaa;Sampled=1"
    assert str(TraceHeader(root, None, False)) == f"Root={root};Sampled=0"
    assert TraceHeader.parse("Root=nonsense;Sampled=1") is None
    assert TraceHeader.parse(None) is None


def test_subsegments_sent_on_their_own_are_nested_under_their_parent_in_order():
    store, trace = TraceStore(), new_trace_id()
    segment, handler, call = new_entity_id(), new_entity_id(), new_entity_id()
    store.put({"trace_id": trace, "id": segment, "name": "fn", "start_time": 1.0, "end_time": 2.0})
    # The call arrives before the handler it was made in, as the SDK streams each one when it ends.
    store.put(_subsegment(trace, call, handler, "dynamodb", 1.3))
    store.put(_subsegment(trace, handler, segment, "## handler", 1.1))
    (assembled,) = store.segments(trace)
    (placed_handler,) = assembled["subsegments"]
    assert (
        placed_handler["id"] == handler and "trace_id" not in placed_handler and "type" not in placed_handler
    )
    assert [child["id"] for child in placed_handler["subsegments"]] == [call]


def test_a_document_sent_again_replaces_the_first_and_orphans_wait_for_their_parent():
    store, trace = TraceStore(), new_trace_id()
    segment = new_entity_id()
    store.put({"trace_id": trace, "id": segment, "name": "fn", "start_time": 1.0, "in_progress": True})
    store.put({"trace_id": trace, "id": segment, "name": "fn", "start_time": 1.0, "end_time": 3.0})
    store.put(_subsegment(trace, new_entity_id(), new_entity_id(), "orphan", 1.5))
    (assembled,) = store.segments(trace)
    assert assembled["end_time"] == 3.0 and "subsegments" not in assembled


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"trace_id": "1-x", "id": "a", "name": "n", "start_time": 1}, "trace id"),
        ({"trace_id": new_trace_id(), "name": "n", "start_time": 1}, "id and a name"),
        ({"trace_id": new_trace_id(), "id": "a", "name": "n"}, "start_time"),
        (
            {"trace_id": new_trace_id(), "id": "a", "name": "n", "start_time": 1, "type": "subsegment"},
            "parent_id",
        ),
    ],
)
def test_a_segment_xray_would_refuse_is_refused_with_the_reason(document, reason):
    with pytest.raises(InvalidSegment, match=reason):
        TraceStore().put(document)


def test_the_daemon_protocol_takes_header_newline_document_and_nothing_else(monkeypatch):
    store = TraceStore()
    monkeypatch.setattr(service, "STORE", store)
    trace = new_trace_id()
    document = {"trace_id": trace, "id": new_entity_id(), "name": "fn", "start_time": 1.0}
    assert service.take_datagram(b'{"format": "json", "version": 1}\n' + json.dumps(document).encode())
    assert not service.take_datagram(json.dumps(document).encode())
    assert not service.take_datagram(b'{"format": "json", "version": 2}\n' + json.dumps(document).encode())
    assert store.trace_ids() == [trace]


def test_a_summary_describes_the_root_segment_and_spans_every_segment():
    trace, root, child = new_trace_id(), new_entity_id(), new_entity_id()
    segments = [
        {"trace_id": trace, "id": child, "parent_id": root, "name": "fn", "origin": "AWS::Lambda",
         "start_time": 10.1, "end_time": 12.0},
        {"trace_id": trace, "id": root, "name": "api/v1", "origin": "AWS::ApiGateway::Stage",
         "start_time": 10.0, "end_time": 10.5, "error": True,
         "http": {"request": {"method": "POST", "url": "/orders"}, "response": {"status": 400}}},
    ]  # fmt: skip
    summary = service.summary(trace, segments)
    assert summary["EntryPoint"] == {"Name": "api/v1", "Names": ["api/v1"], "Type": "AWS::ApiGateway::Stage"}
    assert summary["Duration"] == 2.0 and summary["ResponseTime"] == 0.5
    assert summary["HasError"] and not summary["HasFault"]
    assert summary["Http"] == {"HttpURL": "/orders", "HttpMethod": "POST", "HttpStatus": 400}


def _subsegment(trace: str, identifier: str, parent: str, name: str, start: float) -> dict:
    return {
        "type": "subsegment",
        "trace_id": trace,
        "id": identifier,
        "parent_id": parent,
        "name": name,
        "start_time": start,
        "end_time": start + 0.1,
    }


def test_the_sender_of_a_datagram_is_the_owner_of_the_socket_bound_where_it_came_from():
    lookup = SenderLookup()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.bind(("127.0.0.1", 0))
            sender.sendto(b"x", daemon.getsockname())
            _, source = daemon.recvfrom(16)
            assert lookup.owner(source, daemon.getsockname()) == os.getuid()
            # The same port on another loopback address is no socket's (it would be a wildcard bind's).
            assert lookup.owner(("127.0.0.2", source[1]), daemon.getsockname()) is None
        assert lookup.owner(source, daemon.getsockname()) is None  # closed before it was asked
