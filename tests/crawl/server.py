"""A raw-socket HTTP test server: every byte of every response is the test's choice.

Routes map a path (with query) to a `Reply` — status line, headers and body sent as
given — or to a function that writes to the socket itself (for servers that stall,
lie or speak HTTP/1.0). Keep-alive is honoured; every request is logged.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType


@dataclass(frozen=True)
class Reply:
    """A response: sent as `status_line`, headers, blank line, body."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status_line: str = "HTTP/1.1 200 OK"
    headers: tuple[tuple[str, str], ...] = ()
    chunked: bool = False
    close: bool = False

    def encode(self) -> bytes:
        head = [self.status_line]
        if self.content_type:
            head.append(f"Content-Type: {self.content_type}")
        head += [f"{k}: {v}" for k, v in self.headers]
        body = self.body
        if self.chunked:
            head.append("Transfer-Encoding: chunked")
            parts = [body[i : i + 100] for i in range(0, len(body), 100)]
            body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        elif not any(k.lower() == "content-length" for k, _ in self.headers):
            head.append(f"Content-Length: {len(self.body)}")
        if self.close:
            head.append("Connection: close")
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def html(body: str, **kw: object) -> Reply:
    """An HTML reply."""
    return Reply(body.encode(), **kw)  # type: ignore[arg-type]


Handler = Callable[[socket.socket, dict[str, str]], bool]  # returns: keep the connection
Route = Reply | Handler


@dataclass
class Site:
    """A test site on 127.0.0.1 (or another loopback address) and a free port."""

    routes: dict[str, Route] = field(default_factory=dict)
    host: str = "127.0.0.1"
    log: list[str] = field(default_factory=list)
    connections: int = 0
    times: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        site = self

        class _Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                site.connections += 1
                sock: socket.socket = self.request
                sock.settimeout(10)
                buf = b""
                while True:
                    while b"\r\n\r\n" not in buf:
                        try:
                            data = sock.recv(65536)
                        except OSError:
                            return
                        if not data:
                            return
                        buf += data
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    lines = head.decode("latin-1").split("\r\n")
                    target = lines[0].split(" ")[1]
                    headers = {}
                    for line in lines[1:]:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                    site.log.append(target)
                    site.times.append(time.monotonic())
                    route = site.routes.get(target)
                    if route is None:
                        route = Reply(b"not here", "text/plain", "HTTP/1.1 404 Not Found")
                    try:
                        if isinstance(route, Reply):
                            sock.sendall(route.encode())
                            keep = not route.close
                        else:
                            keep = route(sock, headers)
                    except OSError:
                        return
                    if not keep:
                        return

        class _Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = _Server((self.host, 0), _Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, target: str) -> int:
        """How many times `target` was requested."""
        return self.log.count(target)
