"""What a scan of a WARC or ARC file yields: one Entry per record, a Problem per bad spot."""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import brotli

from vellum.warc.headers import HeadBlock, parse_head

__all__ = [
    "INDEXED_TYPES",
    "WANTED_TYPES",
    "Entry",
    "Problem",
    "dechunk",
    "decode_request_body",
    "normalize_target_uri",
    "parses_http",
    "payload_sha1",
]

INDEXED_TYPES = frozenset(("response", "revisit", "resource"))
# Records whose fields matter: the indexed ones, and requests (they key POST responses).
WANTED_TYPES = INDEXED_TYPES | {"request"}
_HTTP_TYPES = ("response", "request", "revisit")
_HTTP_SCHEMES = ("http:", "https:")
_BODY_METHODS = ("POST", "PUT")


@dataclass(frozen=True, slots=True)
class Problem:
    """A bad spot in a file: where it starts (a byte offset) and what is wrong, for people."""

    offset: int
    reason: str

    def format(self, filename: str) -> str:
        """`file:offset: reason`, the one-line form the importer prints."""
        return f"{filename}:{self.offset}: {self.reason}"


@dataclass(slots=True)
class Entry:
    """One record of a file: where it is, and the fields the index is made of.

    `offset` and `length` are those pywb's indexers give: a whole gzip member, or (in an
    uncompressed file) the record up to the end of its block, without the CRLF CRLF after
    it. `http` is the parsed HTTP head of response, revisit and request records with an
    http(s) target; `payload_digest` is the record's own, or (for response, revisit and
    resource records that have none) the SHA-1 of the payload, computed. `request_body`
    holds the decoded body of POST and PUT requests.
    """

    offset: int
    length: int
    rec_type: str | None
    target_uri: str | None
    date: str | None
    timestamp: str | None
    record_id: str | None
    concurrent_to: str | None
    content_type: str | None
    payload_digest: str | None
    http: HeadBlock | None
    request_body: bytes | None = None


def normalize_target_uri(uri: str | None) -> str | None:
    """Strip the `<…>` wget 1.19+ writes around a target URI and escape spaces, as warcio."""
    if uri is None:
        return None
    if uri.startswith("<") and uri.endswith(">"):
        uri = uri[1:-1]
    return uri.replace(" ", "%20") if " " in uri else uri


def parses_http(rec_type: str | None, uri: str | None) -> bool:
    """Whether a record's block holds an HTTP message (warcio's rule: type and URI scheme)."""
    return rec_type in _HTTP_TYPES and uri is not None and uri.startswith(_HTTP_SCHEMES)


def is_body_request(http: HeadBlock | None) -> bool:
    """A request whose body goes into its index key (POST and PUT, as cdxj-indexer does)."""
    return http is not None and http.first.upper() in _BODY_METHODS


def payload_sha1(chunks: Iterable[bytes | memoryview]) -> str:
    """`sha1:<base32>` of the concatenated chunks (warcio's form of a computed digest)."""
    digest = hashlib.sha1()
    for chunk in chunks:
        digest.update(chunk)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


def http_head(block: bytes, rec_type: str | None, uri: str | None) -> tuple[HeadBlock | None, int]:
    """The HTTP head at the start of `block` (or None) and where the payload starts."""
    if not block or not parses_http(rec_type, uri):
        return None, 0
    return parse_head(block)


def decode_request_body(http: HeadBlock, raw: bytes) -> bytes:
    """A request body with its transfer coding and content coding removed, as warcio does.

    Data that does not decode is kept as it is (warcio falls back the same way).
    """
    body = raw
    if http.get("transfer-encoding") == "chunked":
        body = dechunk(raw)
    encoding = (http.get("content-encoding") or "").lower()
    try:
        if encoding == "gzip":
            body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body)
        elif encoding == "deflate":
            try:
                body = zlib.decompressobj().decompress(body)
            except zlib.error:
                body = zlib.decompressobj(-zlib.MAX_WBITS).decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
    except (zlib.error, brotli.error):
        pass
    return body


def dechunk(raw: bytes) -> bytes:
    """The data of a chunked body; the raw bytes when the first chunk header is not one."""
    out: list[bytes] = []
    pos = 0
    while pos < len(raw):
        eol = raw.find(b"\n", pos)
        if eol < 0:
            break
        size_text = raw[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            size = -1
        if size < 0:
            return raw if not out else b"".join(out)
        if size == 0:
            break
        start = eol + 1
        out.append(raw[start : start + size])
        pos = start + size
        if raw[pos : pos + 2] == b"\r\n":
            pos += 2
        elif raw[pos : pos + 1] == b"\n":
            pos += 1
    return b"".join(out)
