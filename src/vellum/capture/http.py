"""An asyncio HTTP/1.1 client that records exactly what went over the wire.

Connections are kept alive and reused per origin. Headers are kept in wire order and
spelling (decoded as latin-1, so they round-trip byte for byte); the body keeps its
Content-Encoding; a chunked transfer coding is removed and the header renamed
`X-Archive-Orig-Transfer-Encoding` (see STANDARDS.md §1, chunked bodies). HTTP/1.0
servers, missing reason phrases and bare-LF header lines are accepted.

Timeouts: `connect` for DNS + TCP (+ TLS), `read` for any single wait on the server,
`total` for the whole fetch. A body cut by `total` or by a stalled server is kept and
marked `WARC-Truncated: time`; one larger than `max_body` is cut and marked `length`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from vellum.capture.fetch import FetchError
from vellum.capture.safety import AddressGuard
from vellum.clock import Clock, system_clock
from vellum.warc.exchange import HttpExchange

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_ENCODING = "gzip, deflate, br"
MAX_HEADER_LINES = 300
_READ = 256 * 1024


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect, to wait for any read, and for a whole fetch."""

    connect: float = 10.0
    read: float = 30.0
    total: float = 120.0


@dataclass(eq=False)
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    ip: str
    registry: set[_Conn]

    def close(self) -> None:
        self.writer.close()
        self.registry.discard(self)


class _Truncated(Exception):
    """The body could not be read to its end."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class HttpClient:
    """GETs URLs over keep-alive connections and returns `HttpExchange`s."""

    def __init__(
        self,
        user_agent: str,
        guard: AddressGuard,
        timeouts: Timeouts = Timeouts(),
        max_body: int = 200 * 1024 * 1024,
        from_address: str | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._user_agent = user_agent
        self._guard = guard
        self.timeouts = timeouts
        self.max_body = max_body
        self._from = from_address
        self._clock = clock
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        self._dns: dict[tuple[str, int], str] = {}
        self._tls = ssl.create_default_context()
        self._open: set[_Conn] = set()  # every connection not yet closed

    async def resolve(self, host: str, port: int) -> str:
        """The IP address `host` resolves to (cached for the client's lifetime)."""
        cached = self._dns.get((host, port))
        if cached is not None:
            return cached
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise FetchError(f"cannot resolve host {host!r}") from None
        ip = str(infos[0][4][0])
        self._dns[(host, port)] = ip
        return ip

    async def get(self, url: str) -> HttpExchange:
        """GET `url` once (redirects are not followed); raise FetchError if no response."""
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"malformed URL {url!r}") from None
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or not host:
            raise FetchError(f"malformed URL {url!r}")
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        host_header = parts.netloc.rsplit("@", 1)[-1]
        headers = [
            ("Host", host_header),
            ("User-Agent", self._user_agent),
            ("Accept", ACCEPT),
            ("Accept-Encoding", ACCEPT_ENCODING),
        ]
        if self._from:
            headers.append(("From", self._from))
        origin = (parts.scheme, host.lower(), port)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeouts.total
        for attempt in (0, 1):
            conn = self._take_idle(origin) if attempt == 0 else None
            reused = conn is not None
            if conn is None:
                conn = await self._connect(parts.scheme, host, port, deadline)
            started = self._clock()
            try:
                return await self._exchange(conn, origin, url, target, headers, started, deadline)
            except _StaleConnection:
                conn.close()
                if not reused:
                    raise FetchError(f"{host}:{port} closed the connection") from None
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Close every connection (idle or left by a cancelled fetch)."""
        for conn in list(self._open):
            conn.close()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing before the loop ends

    def _take_idle(self, origin: tuple[str, str, int]) -> _Conn | None:
        conns = self._idle.get(origin)
        while conns:
            conn = conns.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn
            conn.close()
        return None

    async def _connect(self, scheme: str, host: str, port: int, deadline: float) -> _Conn:
        loop = asyncio.get_running_loop()
        limit = min(self.timeouts.connect, max(deadline - loop.time(), 0.001))
        try:
            async with asyncio.timeout(limit):
                ip = await self.resolve(host, port)
                refusal = self._guard.refusal(ip)
                if refusal is not None:
                    raise FetchError(refusal)
                reader, writer = await asyncio.open_connection(
                    ip,
                    port,
                    ssl=self._tls if scheme == "https" else None,
                    server_hostname=host if scheme == "https" else None,
                    limit=_READ,
                )
        except TimeoutError:
            raise FetchError(f"timed out connecting to {host}:{port}") from None
        except ConnectionRefusedError:
            raise FetchError(f"connection refused by {host}:{port}") from None
        except ssl.SSLError as exc:
            raise FetchError(f"TLS error with {host}:{port}: {exc.reason}") from None
        except OSError as exc:
            raise FetchError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
        conn = _Conn(reader, writer, ip, self._open)
        self._open.add(conn)
        return conn

    async def _exchange(
        self,
        conn: _Conn,
        origin: tuple[str, str, int],
        url: str,
        target: str,
        headers: list[tuple[str, str]],
        started: datetime,
        deadline: float,
    ) -> HttpExchange:
        loop = asyncio.get_running_loop()
        request = f"GET {target} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
        body_parts: list[bytes] = []
        truncated: str | None = None
        got_head = False
        timer = asyncio.timeout(min(loop.time() + self.timeouts.read, deadline))
        try:
            async with timer:
                conn.writer.write((request + "\r\n").encode("latin-1"))
                first = await conn.reader.readline()
                if not first:
                    raise _StaleConnection
                protocol, status, reason = _status_line(first)
                response_headers = await _read_headers(conn.reader)
                got_head = True
                framing = _framing(response_headers, status)
                keep = _keep_alive(protocol, response_headers) and framing != "close"
                try:
                    await self._read_body(
                        conn.reader, framing, response_headers, body_parts, timer, deadline
                    )
                except _Truncated as cut:
                    truncated, keep = cut.reason, False
        except TimeoutError:
            conn.close()
            if not got_head:
                raise FetchError(f"timed out waiting for {url}") from None
            truncated, keep = "time", False
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            conn.close()
            if not got_head:
                if isinstance(exc, ConnectionResetError | BrokenPipeError):
                    raise _StaleConnection from None
                raise FetchError(f"fetching {url} failed: {exc or type(exc).__name__}") from None
            truncated, keep = "disconnect", False
        if keep:
            self._idle.setdefault(origin, []).append(conn)
        else:
            conn.close()
        return HttpExchange(
            url=url,
            date=started,
            ip_address=conn.ip,
            method="GET",
            request_target=target,
            request_headers=headers,
            protocol=protocol,
            status=status,
            reason=reason,
            response_headers=_stored_headers(response_headers),
            body=b"".join(body_parts),
            truncated=truncated,
        )

    async def _read_body(
        self,
        reader: asyncio.StreamReader,
        framing: str,
        headers: list[tuple[str, str]],
        into: list[bytes],
        timer: asyncio.Timeout,
        deadline: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        budget = self.max_body
        read_timeout = self.timeouts.read

        def tick() -> None:
            timer.reschedule(min(loop.time() + read_timeout, deadline))
            if loop.time() >= deadline:
                raise _Truncated("time")

        async def take(n: int | None) -> None:
            """Read n bytes (None: until EOF), keeping at most the budget."""
            nonlocal budget
            while n is None or n > 0:
                tick()
                chunk = await reader.read(_READ if n is None else min(n, _READ))
                if not chunk:
                    if n is None:
                        return
                    raise _Truncated("disconnect")
                if n is not None:
                    n -= len(chunk)
                if len(chunk) > budget:
                    into.append(chunk[:budget])
                    raise _Truncated("length")
                budget -= len(chunk)
                into.append(chunk)

        if framing == "none":
            return
        if framing == "length":
            await take(int(_header(headers, "content-length") or "0"))
        elif framing == "close":
            await take(None)
        else:  # chunked
            while True:
                tick()
                size_line = await reader.readline()
                if not size_line:
                    raise _Truncated("disconnect")
                try:
                    size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                except ValueError:
                    raise _Truncated("unspecified") from None
                if size == 0:
                    while (await reader.readline()).strip():  # trailers
                        tick()
                    return
                await take(size)
                await reader.readline()  # CRLF after the chunk


class _StaleConnection(Exception):
    """A kept-alive connection the server had closed; retry on a new one."""


def _status_line(line: bytes) -> tuple[str, int, str]:
    text = line.decode("latin-1").rstrip("\r\n")
    parts = text.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise FetchError(f"not an HTTP response: {text[:80]!r}")
    protocol = "HTTP/1.0" if parts[0] == "HTTP/1.0" else "HTTP/1.1"
    return protocol, int(parts[1]), parts[2] if len(parts) > 2 else ""


async def _read_headers(reader: asyncio.StreamReader) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for _ in range(MAX_HEADER_LINES):
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            return headers
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + " " + text.strip())
            continue
        name, sep, value = text.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    raise FetchError(f"more than {MAX_HEADER_LINES} header lines")


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _framing(headers: list[tuple[str, str]], status: int) -> str:
    """How the body ends: none, length, chunked or close."""
    if status < 200 or status in (204, 304):
        return "none"
    coding = _header(headers, "transfer-encoding")
    if coding and coding.lower().rsplit(",", 1)[-1].strip() == "chunked":
        return "chunked"
    length = _header(headers, "content-length")
    if length is not None and length.strip().isdigit():
        return "length"
    return "close"


def _keep_alive(protocol: str, headers: list[tuple[str, str]]) -> bool:
    connection = (_header(headers, "connection") or "").lower()
    if protocol == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


def _stored_headers(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers in wire order; a removed chunked coding is renamed so replay won't re-apply it."""
    return [
        ("X-Archive-Orig-" + name, value)
        if name.lower() == "transfer-encoding" and "chunked" in value.lower()
        else (name, value)
        for name, value in items
    ]
