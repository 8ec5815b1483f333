"""`vellum serve` in a thread for the tests: UI and replay origins on free ports."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from vellum.catalog import Catalog
from vellum.replay.app import create_app
from vellum.replay.server import bind_pair, make_server, with_origins
from vellum.settings import Settings


@contextmanager
def serving(settings: Settings, catalog: Catalog) -> Iterator[Settings]:
    """`vellum serve` in a thread: UI and replay sockets on free ports; yields the origins."""
    ui_sock, replay_sock = bind_pair("127.0.0.1", 0, 0)
    framed = with_origins(settings, "127.0.0.1", ui_sock, replay_sock)
    server = make_server(create_app(framed, catalog))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [ui_sock, replay_sock]}, daemon=True
    )
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    try:
        yield framed
    finally:
        server.should_exit = True
        thread.join(10)
        ui_sock.close()
        replay_sock.close()
