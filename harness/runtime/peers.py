"""Who is on the other end of a loopback TCP connection, from /proc: so an instance's Runtime API port
serves only that instance's own runtime client, not any local user who finds the port.

The client's end of the connection is the socket whose local port is the peer port we see and whose
remote port is our listening port. Its owner's uid is in /proc/net/tcp; which process holds it is in
/proc/<pid>/fd (readable for our own processes, and for every process when we are root).
"""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")
_ESTABLISHED = "01"


def client_socket(client_port: int, server_port: int) -> tuple[int, int] | None:
    """(inode, uid) of the established socket ``127.0.0.1:client_port -> :server_port``, if any."""
    for table in ("tcp", "tcp6"):
        try:
            lines = (_PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if (
                state == _ESTABLISHED
                and int(local.rsplit(":", 1)[1], 16) == client_port
                and int(remote.rsplit(":", 1)[1], 16) == server_port
            ):
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


def connected_from(pid: int, client_port: int, server_port: int) -> bool:
    """Whether the connection from ``client_port`` to ``server_port`` is process ``pid``'s: its socket
    belongs to ``pid``'s user and, where ``pid``'s descriptors can be read, to ``pid`` itself."""
    found = client_socket(client_port, server_port)
    if found is None:
        return False
    inode, uid = found
    if uid != process_uid(pid):
        return False
    return holds_socket(pid, inode) is not False
