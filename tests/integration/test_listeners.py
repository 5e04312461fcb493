"""Nothing of the local stack listens anywhere but loopback (issue: the stack answers only its owner).

The stack's processes are found from the two ports everything else hangs off (the emulator's and the
function runtime's), then every descendant; each listening TCP socket and bound UDP socket they hold is
read from /proc, so a listener a service opens later (MiniStack's IoT broker, its SFTP server) counts.
A function instance's UDP sockets are its own outgoing traffic (the X-Ray SDK sends segments from an
unbound socket, which the kernel binds to the wildcard address on the first send), as on Lambda; its
TCP listeners still count.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

from testkit.sockets import TCP_LISTEN, exposed_sockets, socket_inodes, sockets


def test_every_socket_of_the_stack_is_bound_to_loopback(local_stack):
    ports = {urlparse(local_stack.endpoint_url).port, urlparse(local_stack.runtime_url).port}
    exposed = exposed_sockets(ports)
    assert not exposed, "listening beyond loopback:\n" + "\n".join(exposed)


@pytest.mark.parametrize("table", ["tcp", "tcp6"])
def test_the_proc_reader_sees_a_wildcard_listener(table):
    """The check above can fail: a socket on the wildcard address is reported as such."""
    family, wildcard = (socket.AF_INET, "0.0.0.0") if table == "tcp" else (socket.AF_INET6, "::")
    with socket.socket(family) as listener:
        listener.bind((wildcard, 0))
        listener.listen()
        port = listener.getsockname()[1]
        inodes = socket_inodes(os.getpid())
        mine = [v for inode, v in sockets(table).items() if inode in inodes and v[1] == port]
    assert mine == [(wildcard, port, TCP_LISTEN)]
