"""Persistent HTTP connections from the emulator to the function runtime (the ``proxy_errors`` patch's hop).

Upstream's proxy (urllib) opens a new TCP connection for every invocation, about three per order. Here
an invocation takes the connection its target used last, from a pool shared by the emulator's worker
threads (so sequential invocations share one connection and concurrent ones use as many as there are at
once). A POST is never sent twice: a pooled connection is checked before it is used (idle for less than
``IDLE_LIMIT_S``, well inside the runtime's keep-alive, and not closed by the peer), and a failure on it
is reported like any other instead of retried, since the runtime may already have run the invocation.
"""

from __future__ import annotations

import collections
import http.client
import os
import select
import threading
import time
from email.message import Message
from urllib.parse import urlsplit

# Where the harness tells the emulator its function runtime listens (the harness sets it, patches read it).
RUNTIME_URL_ENV = "HARNESS_RUNTIME_URL"
# aiohttp (the runtime's server) keeps an idle connection 75 s; a client that waits less never sends on a
# connection the server is closing at that moment.
IDLE_LIMIT_S = 30.0


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: collections.defaultdict[tuple[str, int], list[tuple[http.client.HTTPConnection, float]]]
        self._idle = collections.defaultdict(list)

    def take(self, host: str, port: int) -> http.client.HTTPConnection:
        """The target's most recently used connection still fit to send on, or a new one."""
        with self._lock:
            idle = self._idle[(host, port)]
            while idle:
                connection, since = idle.pop()
                if time.monotonic() - since < IDLE_LIMIT_S and not _closed_by_peer(connection):
                    return connection
                connection.close()
        return http.client.HTTPConnection(host, port)

    def give_back(self, host: str, port: int, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle[(host, port)].append((connection, time.monotonic()))


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection has anything to read: the peer's close (or bytes nobody asked for)."""
    if connection.sock is None:
        return True
    poller = select.poll()  # not select(): the emulator raises its descriptor limit past FD_SETSIZE
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))


_pool = _Pool()


def runtime_url() -> str:
    """The function runtime's URL, with its session token as the last segment ("" when none is set)."""
    return os.environ.get(RUNTIME_URL_ENV, "")


def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> tuple[int, Message, bytes]:
    """(status, headers, body) of a POST of ``body`` to ``url``, on a pooled connection.

    Raises ``TimeoutError`` when the target does not answer within ``timeout_s``, ``OSError`` or
    ``http.client.HTTPException`` when it cannot be reached or breaks the connection.
    """
    target = urlsplit(url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    path = target.path + (f"?{target.query}" if target.query else "")
    connection = _pool.take(host, port)
    connection.timeout = timeout_s  # for a connection opened by this request
    if connection.sock is not None:
        connection.sock.settimeout(timeout_s)
    try:
        connection.request("POST", path or "/", body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    except BaseException:
        connection.close()
        raise
    if response.will_close:
        connection.close()
    else:
        _pool.give_back(host, port, connection)
    return response.status, response.headers, data
