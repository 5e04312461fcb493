"""Which processes listen where, read from /proc: the listening TCP sockets and bound UDP sockets of
/proc/net/<table>, matched by inode to the sockets each /proc/<pid>/fd holds (tests/integration/
test_listeners.py checks the reader itself)."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

TCP_LISTEN = "0A"
_PROC = Path("/proc")


def sockets(table: str) -> dict[int, tuple[str, int, str]]:
    """inode -> (address, port, state) of every socket in /proc/net/<table>."""
    family = socket.AF_INET6 if table.endswith("6") else socket.AF_INET
    found = {}
    for line in (_PROC / "net" / table).read_text().splitlines()[1:]:
        fields = line.split()
        hex_address, hex_port = fields[1].split(":")
        packed = bytes.fromhex(hex_address)
        # /proc prints each 32-bit word of the address in host (little-endian) order.
        packed = b"".join(packed[i : i + 4][::-1] for i in range(0, len(packed), 4))
        found[int(fields[9])] = (socket.inet_ntop(family, packed), int(hex_port, 16), fields[3])
    return found


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets ``pid`` holds open."""
    inodes = set()
    for fd in (_PROC / str(pid) / "fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _listener_pids(ports: set[int], tables: dict[str, dict[int, tuple[str, int, str]]]) -> set[int]:
    wanted = {
        inode for inode, (_, port, state) in tables["tcp"].items() if port in ports and state == TCP_LISTEN
    }
    owners = set()
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            try:
                if socket_inodes(int(entry.name)) & wanted:
                    owners.add(int(entry.name))
            except OSError:
                continue
    return owners


def _with_descendants(pids: set[int]) -> set[int]:
    tree, found, todo = _children(), set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(tree.get(pid, []))
    return found


def listener_pids(ports: set[int]) -> set[int]:
    """The processes listening on ``ports``."""
    return _listener_pids(ports, {"tcp": sockets("tcp")})


def listening_ports(pid: int) -> set[int]:
    """The TCP ports ``pid`` listens on."""
    inodes = socket_inodes(pid)
    tables = {**sockets("tcp"), **sockets("tcp6")}
    return {port for inode, (_, port, state) in tables.items() if inode in inodes and state == TCP_LISTEN}


def exposed_sockets(ports: set[int]) -> list[str]:
    """Every socket the processes behind ``ports`` (and their descendants) listen on beyond loopback."""
    tables = {name: sockets(name) for name in ("tcp", "tcp6", "udp", "udp6")}
    owners = _listener_pids(ports, tables)
    assert owners, f"no process found listening on {ports}"
    exposed = []
    for pid in _with_descendants(owners):
        try:
            inodes = socket_inodes(pid)
            instance = b"awslambdaric" in (_PROC / str(pid) / "cmdline").read_bytes()
        except OSError:  # exited meanwhile
            continue
        for name, table in tables.items():
            for inode in inodes & table.keys():
                address, port, state = table[inode]
                listening = state == TCP_LISTEN if name.startswith("tcp") else not instance
                if listening and not ipaddress.ip_address(address).is_loopback:
                    exposed.append(f"pid {pid}: {name} {address}:{port}")
    return exposed
