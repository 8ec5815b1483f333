"""A small web site on 127.0.0.1 for crawl jobs: N linked pages, each served after a delay."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class PagesSite:
    """Pages /p/0 ... /p/N-1; each links to the next three; `delay` seconds per response."""

    def __init__(self, pages: int = 20, delay: float = 0.0) -> None:
        self.pages = pages
        self.delay = delay
        self.hits = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits += 1
                time.sleep(site.delay)
                body, status = site.page(self.path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler was stopped mid-response

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def page(self, path: str) -> tuple[bytes, int]:
        if path == "/":
            path = "/p/0"
        if not path.startswith("/p/") or not path[3:].isdigit() or int(path[3:]) >= self.pages:
            return b"<html><body>not here</body></html>", 404
        i = int(path[3:])
        links = "".join(
            f'<a href="/p/{j}">page {j}</a> ' for j in range(i + 1, min(i + 4, self.pages))
        )
        text = f"<html><head><title>Page {i}</title></head><body><h1>Page {i}</h1>"
        text += f"<p>Archive test page number {i} with some words.</p>{links}</body></html>"
        return text.encode(), 200

    def __enter__(self) -> PagesSite:
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
        self._thread.join(5)
