"""Fetch one URL over HTTP/1.1 and keep the messages exactly as exchanged."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput
from vellum.warc.exchange import HttpExchange

MAX_BODY_BYTES = 200 * 1024 * 1024
_READ_SIZE = 64 * 1024


class FetchError(Exception):
    """A fetch that produced no HTTP response (DNS failure, refused, timed out, bad TLS…)."""


@dataclass(frozen=True)
class FetchOptions:
    user_agent: str
    timeout: float = 30.0
    max_body_bytes: int = MAX_BODY_BYTES
    accept_encoding: str = "gzip, deflate, br"


def check_url(url: str) -> str:
    """Return `url` if it is an absolute http(s) URL with a host, else raise InvalidInput."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise InvalidInput(f"malformed URL {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"malformed URL {url!r}: expected http:// or https:// and a host name")
    return url


def fetch(url: str, options: FetchOptions, clock: Clock = system_clock) -> HttpExchange:
    """GET `url` once (no redirects followed) and return the recorded exchange."""
    parts = urlsplit(check_url(url))
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    host_header = parts.netloc.rsplit("@", 1)[-1]
    headers = [
        ("Host", host_header),
        ("User-Agent", options.user_agent),
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("Accept-Encoding", options.accept_encoding),
        ("Connection", "close"),
    ]
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            host, port, timeout=options.timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=options.timeout)
    started = clock()
    try:
        conn.connect()
        assert conn.sock is not None
        ip_address = str(conn.sock.getpeername()[0])
        conn.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        body, truncated = _read_body(response, options.max_body_bytes)
        response_headers = _stored_headers(response.msg.items())
        protocol = "HTTP/1.0" if response.version == 10 else "HTTP/1.1"
        return HttpExchange(
            url=url,
            date=started,
            ip_address=ip_address,
            method="GET",
            request_target=target,
            request_headers=headers,
            protocol=protocol,
            status=response.status,
            reason=response.reason,
            response_headers=response_headers,
            body=body,
            truncated=truncated,
        )
    except socket.gaierror:
        raise FetchError(f"cannot resolve host {host!r}") from None
    except ConnectionRefusedError:
        raise FetchError(f"connection refused by {host}:{port}") from None
    except TimeoutError:
        raise FetchError(f"timed out after {options.timeout:g}s fetching {url}") from None
    except ssl.SSLError as exc:
        raise FetchError(f"TLS error with {host}:{port}: {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"fetching {url} failed: {exc or type(exc).__name__}") from None
    finally:
        conn.close()


def _read_body(response: http.client.HTTPResponse, limit: int) -> tuple[bytes, str | None]:
    """The de-chunked body (content coding kept), cut at `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read(_READ_SIZE)
        if not chunk:
            return b"".join(chunks), None
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], "length"


def _stored_headers(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers in wire order; a removed chunked coding is renamed so replay won't re-apply it."""
    stored = []
    for name, value in items:
        if name.lower() == "transfer-encoding" and "chunked" in value.lower():
            stored.append(("X-Archive-Orig-" + name, value))
        else:
            stored.append((name, value.replace("\r\n", "").replace("\n", "")))
    return stored
