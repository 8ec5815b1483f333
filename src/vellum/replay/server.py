"""Run the replay app with uvicorn on sockets bound before start-up (UI and replay)."""

from __future__ import annotations

import socket
from dataclasses import replace
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette

from vellum.errors import InvalidInput, VellumError
from vellum.replay.frame import check_origin, default_origins
from vellum.settings import Settings


def bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A listening socket on host:port, or a one-line error if it cannot be had.

    `reuse_port` (SO_REUSEPORT) lets worker processes bind sockets of their own to the
    same port, among which the kernel spreads connections evenly (`vellum.replay.workers`).
    """
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
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
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


def serve(app: Starlette, *socks: socket.socket) -> None:
    """Serve on every socket until interrupted (Ctrl-C stops it cleanly).

    Framed replay listens twice, once for the UI origin and once for the replay origin;
    the app tells them apart by the Host header (see `vellum.replay.frame`).
    """
    server = make_server(app)
    try:
        server.run(sockets=list(socks))
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it already handled by shutting down
    finally:
        for sock in socks:
            sock.close()


def bind_pair(
    host: str, port: int, replay_port: int | None, reuse_port: bool = False
) -> tuple[socket.socket, socket.socket]:
    """The UI socket on `port` and the replay socket on `replay_port` (default port+1)."""
    ui = bind(host, port, reuse_port)
    if replay_port is None:
        bound = ui.getsockname()[1]
        replay_port = bound + 1 if port and bound < 65535 else 0
    try:
        replay = bind(host, replay_port, reuse_port)
    except VellumError:
        ui.close()
        raise VellumError(
            f"port {replay_port} on {host} (for the replay origin) is not free; "
            "choose another with --replay-port"
        ) from None
    return ui, replay


def with_origins(
    settings: Settings,
    host: str,
    ui_sock: socket.socket,
    replay_sock: socket.socket,
    ui_origin: str | None = None,
    replay_origin: str | None = None,
) -> Settings:
    """`settings` naming the UI and replay origins: given ones, else the defaults.

    The defaults (`default_origins`) put the UI on localhost and replay on 127.0.0.1,
    at the two sockets' ports. The two must differ by host name: cookies ignore ports.
    """
    defaults = default_origins(host, ui_sock.getsockname()[1], replay_sock.getsockname()[1])
    ui = check_origin(ui_origin, "--ui-origin") if ui_origin else defaults.ui
    replay = check_origin(replay_origin, "--replay-origin") if replay_origin else defaults.replay
    if urlsplit(ui).hostname == urlsplit(replay).hostname:
        raise InvalidInput(
            f"the UI origin {ui} and the replay origin {replay} share a host name, so "
            "archived script could read the UI's cookies; give --replay-origin a host of its own"
        )
    return replace(settings, ui_origin=ui, replay_origin=replay)
