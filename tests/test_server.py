"""The replay server's listening socket."""

from __future__ import annotations

import socket

import pytest

from vellum.errors import VellumError
from vellum.replay.server import bind


def test_socket_is_tcp_with_nodelay() -> None:
    # asyncio enables TCP_NODELAY on accepted connections only for IPPROTO_TCP sockets;
    # without it, keep-alive answers wait for delayed ACKs (~40 ms each).
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()


def test_port_in_use_is_one_line() -> None:
    first = bind("127.0.0.1", 0)
    try:
        with pytest.raises(VellumError, match=r"port \d+ on 127.0.0.1 is already in use"):
            bind("127.0.0.1", first.getsockname()[1])
    finally:
        first.close()
