"""Run the replay app with uvicorn on a socket bound before start-up."""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette

from vellum.errors import VellumError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or a one-line error if it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise VellumError(f"cannot listen on {host}: unknown host name") from None
    family, _, _, _, address = infos[0]
    # IPPROTO_TCP explicitly: asyncio turns TCP_NODELAY on only for sockets created with
    # it, and without it every answer after the first on a keep-alive connection waits
    # ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == 98:  # EADDRINUSE
            raise VellumError(
                f"port {port} on {host} is already in use; choose another with --port"
            ) from None
        raise VellumError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def make_server(app: Starlette) -> uvicorn.Server:
    """A quiet uvicorn server for `app`; run it with `server.run(sockets=[sock])`."""
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    return uvicorn.Server(config)


def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C stops it cleanly)."""
    server = make_server(app)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it already handled by shutting down
    finally:
        sock.close()
