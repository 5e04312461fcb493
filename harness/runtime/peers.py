"""Who is on the other end of a loopback TCP connection, from /proc: so an instance's Runtime API port
serves only that instance's own runtime client, not any local user who finds the port.

The client's end of the connection is the established socket whose local address and port are the
peer's we see and whose remote address and port are our listener's: the full four-tuple, which names
one connection (a port alone does not: anyone may bind 127.0.0.N on the client's port). Its owner's uid
is in /proc/net/tcp; which process holds it is in /proc/<pid>/fd (readable for our own processes, and
for every process when we are root).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

_PROC = Path("/proc")
_ESTABLISHED = "01"
# An IPv4 address as an IPv6 socket (listed in tcp6) holds it: ::ffff:a.b.c.d.
_V4_MAPPED_PREFIX = bytes(10) + b"\xff\xff"

Endpoint = tuple[str, int]  # (IPv4 address, port), as a socket's peername or sockname gives it


def _proc_endpoint(endpoint: Endpoint, table: str) -> str:
    """``("127.0.0.1", 9001)`` as /proc/net/<table> prints it: ``0100007F:2329`` (each 32-bit word of
    the address in host byte order, then the port)."""
    host, port = endpoint
    packed = socket.inet_aton(host)
    if table == "tcp6":
        packed = _V4_MAPPED_PREFIX + packed
    words = (int.from_bytes(packed[i : i + 4], sys.byteorder) for i in range(0, len(packed), 4))
    return "".join(f"{word:08X}" for word in words) + f":{port:04X}"


def client_socket(client: Endpoint, server: Endpoint) -> tuple[int, int] | None:
    """(inode, uid) of the established socket ``client -> server``, if any."""
    for table in ("tcp", "tcp6"):
        try:
            text = (_PROC / "net" / table).read_text()
        except OSError:
            continue
        entry = f" {_proc_endpoint(client, table)} {_proc_endpoint(server, table)} {_ESTABLISHED} "
        at = text.find(entry)
        if at >= 0:
            fields = text[text.rfind("\n", 0, at) + 1 : text.find("\n", at)].split()
            return int(fields[9]), int(fields[7])
    return None


def process_uid(pid: int) -> int | None:
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def holds_socket(pid: int, inode: int) -> bool | None:
    """Whether ``pid`` holds the socket ``inode``; None when its descriptors cannot be read."""
    target = f"socket:[{inode}]"
    try:
        descriptors = list((_PROC / str(pid) / "fd").iterdir())
    except OSError:
        return None
    for descriptor in descriptors:
        try:
            if os.readlink(descriptor) == target:
                return True
        except OSError:  # closed meanwhile
            continue
    return False


def connected_from(pid: int, client: Endpoint, server: Endpoint) -> bool:
    """Whether the connection from ``client`` to ``server`` is process ``pid``'s: its socket belongs to
    ``pid``'s user and, where ``pid``'s descriptors can be read, to ``pid`` itself."""
    found = client_socket(client, server)
    if found is None:
        return False
    inode, uid = found
    if uid != process_uid(pid):
        return False
    return holds_socket(pid, inode) is not False
