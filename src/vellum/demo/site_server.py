"""A small threaded HTTP/1.1 server for the bundled demo site.

It serves `vellum/demo/site/` the way a real web server would, with the framings an
archiver must record faithfully: HTML goes out with `Transfer-Encoding: chunked`, CSS
with `Content-Encoding: gzip` when the client accepts it, everything else with a
`Content-Length`. Every response carries `X-Demo-Server: vellum-demo`.

    with DemoSite() as site:
        crawl(site.url + "partners/aimf.html")
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import socket
import sys
import threading
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import unquote, urlsplit

__all__ = ["SITE_ROOT", "DemoSite", "main"]

SITE_ROOT = Path(__file__).resolve().parent / "site"
"""The folder of the bundled demo site."""

CHUNK_SIZE = 1024
"""Size of the chunks an HTML body is split into."""

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}

_NOT_FOUND_PAGE = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>404 Not Found</title></head>'
    "<body><h1>Not Found</h1><p>The requested page does not exist on this demo site.</p>"
    "</body></html>\n"
)


def content_type(path: Path) -> str:
    """The Content-Type the demo server sends for a file, by its extension."""
    return _CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header value admits gzip (a `q=0` refuses it)."""
    if not accept_encoding:
        return False
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        return quality > 0
    return False


class _Server(ThreadingHTTPServer):
    """The HTTP server, holding the settings its handlers read."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, delay: float, verbose: bool) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.root = root
        self.delay = delay
        self.verbose = verbose
        self.stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on a bad resolver.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut every open connection, so kept-alive or sleeping handlers end now."""
        with self._open_lock:
            connections = list(self._open)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-response are normal here (interrupted crawls).
        if self.verbose:
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Serves files from the server's root; GET and HEAD only."""

    protocol_version = "HTTP/1.1"
    server_version = "VellumDemo/0.1"
    sys_version = ""
    timeout = 30  # seconds an idle kept-alive connection stays open

    @property
    def _server(self) -> _Server:
        return cast(_Server, self.server)

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def end_headers(self) -> None:
        self.send_header("X-Demo-Server", "vellum-demo")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        if self._server.verbose:
            super().log_message(format, *args)

    def _answer(self, head: bool) -> None:
        server = self._server
        if server.delay > 0 and server.stopping.wait(server.delay):
            self.close_connection = True  # stopped while waiting: hang up unanswered
            return
        url_path = unquote(urlsplit(self.path).path)
        segments = url_path.split("/")
        if not url_path.startswith("/") or ".." in segments or "\\" in url_path or "\0" in url_path:
            self._send_small(HTTPStatus.FORBIDDEN, "Forbidden", head)
            return
        root = server.root
        target = root.joinpath(*[s for s in segments if s and s != "."])
        if not target.resolve().is_relative_to(root.resolve()):
            self._send_small(HTTPStatus.FORBIDDEN, "Forbidden", head)
            return
        if target.is_dir():
            if not url_path.endswith("/"):
                # Relative links in an index page need the trailing slash.
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", url_path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            target = target / "index.html"
        if not target.is_file():
            self._send_small(HTTPStatus.NOT_FOUND, _NOT_FOUND_PAGE, head, html=True)
            return
        self._send_file(target, head)

    def _send_file(self, path: Path, head: bool) -> None:
        body = path.read_bytes()
        ctype = content_type(path)
        chunked = ctype.startswith("text/html") and self.request_version != "HTTP/1.0"
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Last-Modified", formatdate(path.stat().st_mtime, usegmt=True))
        if path.suffix.lower() == ".css":
            self.send_header("Vary", "Accept-Encoding")
            if accepts_gzip(self.headers.get("Accept-Encoding")):
                body = gzip.compress(body, mtime=0)
                self.send_header("Content-Encoding", "gzip")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        if chunked:
            for start in range(0, len(body), CHUNK_SIZE):
                chunk = body[start : start + CHUNK_SIZE]
                self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def _send_small(self, status: HTTPStatus, text: str, head: bool, html: bool = False) -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        ctype = "text/html; charset=utf-8" if html else "text/plain; charset=utf-8"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class DemoSite:
    """The demo site served over HTTP on a background thread.

    `port=0` lets the OS choose a free port; `url` tells which after `start()`.
    `delay` is how many seconds to wait before answering each request (it may be
    changed while running); `verbose` logs requests and errors to stderr.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        root: Path | None = None,
        *,
        delay: float = 0.0,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.root = (root if root is not None else SITE_ROOT).resolve()
        self._requested_port = port
        self._delay = delay
        self.verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def delay(self) -> float:
        """Seconds slept before answering each request."""
        return self._delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._delay = seconds
        if self._server is not None:
            self._server.delay = seconds

    @property
    def port(self) -> int:
        """The port being listened on; only known once started."""
        if self._server is None:
            raise RuntimeError("DemoSite is not running: call start() first")
        return self._server.server_port

    @property
    def url(self) -> str:
        """The site's root URL, such as `http://127.0.0.1:54321/`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    def start(self) -> None:
        """Bind the port and serve on a daemon thread."""
        if self._server is not None:
            raise RuntimeError("DemoSite is already running")
        if not (self.root / "index.html").is_file():
            raise FileNotFoundError(f"no demo site at {self.root}: index.html is missing")
        server = _Server((self.host, self._requested_port), self.root, self._delay, self.verbose)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"vellum-demo-site:{server.server_port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, cut open connections and free the port; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.stopping.set()
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> DemoSite:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Serve the demo site until interrupted: `python -m vellum.demo.site_server`."""
    parser = argparse.ArgumentParser(description="Serve the Vellum demo site.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    site = DemoSite(args.host, args.port, delay=args.delay, verbose=not args.quiet)
    try:
        site.start()
    except OSError as exc:
        print(f"cannot serve the demo site on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"Serving the Vellum demo site at {site.url} (Ctrl-C to stop)", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
