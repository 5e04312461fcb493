"""Who sent a datagram to the X-Ray daemon's port: the user owning the UDP socket it came from.

UDP carries no peer credentials, and a source port alone names no sender: anyone may bind 127.0.0.N on
the port a function's X-Ray SDK sends from. The kernel answers exactly, with its own lookup of the
socket a reply to the datagram would reach (full addresses and ports, wildcard binds included): a
sock_diag request for one UDP socket (``NETLINK_SOCK_DIAG``, an ``inet_diag_req_v2`` without
``NLM_F_DUMP``; linux/inet_diag.h), about 20 µs, where reading the whole of /proc/net/udp took 0.5 ms
on the project's machines. A datagram whose socket is closed by the time it is read has no sender.
"""

from __future__ import annotations

import socket
import struct

Endpoint = tuple[str, int]  # (IPv4 address, port), as recvfrom and getsockname give it

_NETLINK_SOCK_DIAG = 4  # linux/netlink.h
_SOCK_DIAG_BY_FAMILY = 20  # linux/sock_diag.h
_NLM_F_REQUEST = 0x1
_NLMSG_ERROR = 0x2
_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr: length, type, flags, sequence, port id
# struct inet_diag_req_v2: family, protocol, extensions, padding, states (ignored for one socket).
_REQUEST = struct.Struct("=BBBBI")
# struct inet_diag_sockid: ports and addresses in network order (an IPv4 address in the first of
# four words), then the interface and the cookie; all-ones is INET_DIAG_NOCOOKIE, "whichever socket".
_SOCKET_ID = struct.Struct("!HH16s16s")
_ANY_INTERFACE_ANY_COOKIE = struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF)
# struct inet_diag_msg: family, state, timer, retransmits, the socket id (48 bytes), expires, receive
# and send queues, then the owner's uid.
_UID_AT = _HEADER.size + 4 + 48 + 12


class SenderLookup:
    """One netlink socket asking the kernel about UDP sockets (one thread at a time)."""

    def __init__(self) -> None:
        self._netlink = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, _NETLINK_SOCK_DIAG
        )

    def owner(self, sender: Endpoint, receiver: Endpoint) -> int | None:
        """The uid owning the UDP socket that sent ``receiver`` a datagram from ``sender``; None when the
        kernel names none (no socket is bound there now). The kernel looks a socket up as for a datagram
        arriving from the request's source to its destination (udp_dump_one), so the receiver is the
        source here."""
        socket_id = _SOCKET_ID.pack(receiver[1], sender[1], _address(receiver[0]), _address(sender[0]))
        request = _REQUEST.pack(socket.AF_INET, socket.IPPROTO_UDP, 0, 0, 0) + socket_id
        request += _ANY_INTERFACE_ANY_COOKIE
        header = _HEADER.pack(_HEADER.size + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 0, 0)
        # The kernel answers within the send: the reply is queued before sendto returns.
        self._netlink.sendto(header + request, (0, 0))
        reply = self._netlink.recv(4096)
        if _HEADER.unpack_from(reply)[1] == _NLMSG_ERROR:  # ENOENT: no such socket
            return None
        return struct.unpack_from("=I", reply, _UID_AT)[0]


def _address(ipv4: str) -> bytes:
    return socket.inet_aton(ipv4) + bytes(12)
