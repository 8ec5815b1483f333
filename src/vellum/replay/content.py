"""The answer for one archived capture: status, headers and body, rewritten per modifier.

What each modifier does (pywb's meanings, `STANDARDS.md` §6):

- `id_`: the stored payload untouched, Content-Encoding included (headers still renamed
  and URL headers still rewritten: see `headers`);
- `mp_`, none, `if_`, `fr_`, `im_`, `oe_`: HTML and CSS rewritten; HTML gets the
  inserts the app gives for that modifier (the client-side rewriter for framed
  documents), the others none;
- `cs_`: forces CSS rewriting of text that is not typed as CSS (`text/plain`, untyped,
  `application/octet-stream`, or "HTML" that does not start with a tag);
- `js_`: script: never HTML-rewritten (a JSONP answer typed `text/html` stays intact);
  script itself is not rewritten on the server (wombat does that at run time);
- everything else (images, media, JSON, fonts…): the payload as stored, with byte
  ranges served (`ranges`).

Where the body is rewritten its Content-Encoding (gzip, deflate, br) is decoded first;
a coding that cannot be decoded sends the stored bytes as they are.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from starlette.responses import Response

from vellum.index.cdxj import Capture
from vellum.replay.cache import ByteLRU
from vellum.replay.charset import decode_text
from vellum.replay.diskcache import DiskTier
from vellum.replay.headers import HeaderContext, replay_headers
from vellum.replay.ranges import Unsatisfiable, multipart_body, parse_range
from vellum.replay.rewrite.css import rewrite_css
from vellum.replay.rewrite.html import rewrite_html
from vellum.replay.urlrewriter import UrlRewriter
from vellum.warc.encoding import decode_content
from vellum.warc.reader import ArchivedRecord

__all__ = ["Body", "Inserts", "Treatment", "build_body", "choose_treatment", "to_response"]

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xhtml")
_UNTYPED = ("", "text/plain", "application/octet-stream", "unk", "unknown")
_STARTS_WITH_TAG = re.compile(rb"^\s*<")
_CACHE_BYTES = 128 * 1024 * 1024


class Treatment(Enum):
    RAW = "raw"
    HTML = "html"
    CSS = "css"


@dataclass(frozen=True)
class Inserts:
    """What goes into a replayed HTML document: after <head>, and at the top of <body>."""

    head: str
    body: str


@dataclass(frozen=True)
class Body:
    """A capture's answer before Memento headers and ranges: shared by every request."""

    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes
    treatment: Treatment


def choose_treatment(mime: str, modifier: str, payload_start: bytes) -> Treatment:
    """How a payload of type `mime` is served under `modifier` (see the module doc)."""
    mime = mime.lower()
    if modifier == "id_":
        return Treatment.RAW
    looks_html = _STARTS_WITH_TAG.match(payload_start) is not None
    css_like = mime == "text/css" or mime in _UNTYPED or (mime in HTML_TYPES and not looks_html)
    if modifier == "cs_" and css_like:
        return Treatment.CSS
    if modifier == "js_" and mime in HTML_TYPES and not looks_html:
        return Treatment.RAW
    if mime in HTML_TYPES:
        return Treatment.HTML
    if mime == "text/css":
        return Treatment.CSS
    return Treatment.RAW


class BodyCache:
    """Answers by capture, modifier and inserts (records never change).

    In memory for this process; rewritten ones also on disk (`diskcache`), where the
    other worker processes find them.
    """

    def __init__(self, budget: int = _CACHE_BYTES, disk: DiskTier | None = None) -> None:
        self._lru: ByteLRU[Body] = ByteLRU(budget)
        self._disk = disk

    def peek(self, key: tuple[object, ...]) -> Body | None:
        """The answer kept for `key`, if any (never builds one)."""
        body = self._lru.get(key)
        if body is None and self._disk is not None:
            body = self._load(key)
            if body is not None:
                self._keep(key, body)
        return body

    def get_or_build(self, key: tuple[object, ...], build: Callable[[], Body]) -> Body:
        body = self.peek(key)
        if body is None:
            body = build()
            self._keep(key, body)
            if self._disk is not None and body.treatment is not Treatment.RAW:
                meta = {
                    "status": body.status,
                    "treatment": body.treatment.value,
                    "headers": [list(h) for h in body.headers],
                }
                self._disk.put(key, meta, body.content)
        return body

    def _keep(self, key: tuple[object, ...], body: Body) -> None:
        size = len(body.content) + sum(len(k) + len(v) for k, v in body.headers) + 200
        self._lru.put(key, body, size)

    def _load(self, key: tuple[object, ...]) -> Body | None:
        assert self._disk is not None
        entry = self._disk.get(key)
        if entry is None:
            return None
        meta, content = entry
        status, treatment, stored = meta.get("status"), meta.get("treatment"), meta.get("headers")
        if not isinstance(status, int) or not isinstance(stored, list):
            return None
        try:
            headers = tuple((str(k), str(v)) for k, v in stored)
            return Body(status, headers, content, Treatment(treatment))
        except (TypeError, ValueError):
            return None


def build_body(
    record: ArchivedRecord,
    capture: Capture,
    modifier: str,
    rewriter: UrlRewriter,
    header_ctx: Callable[[bool], HeaderContext],
    inserts: Inserts | None,
) -> Body:
    """Status, headers and body of a capture under `modifier` (see the module doc)."""
    status = record.status or 200
    content_type = record.header("Content-Type") or capture.mime
    mime = capture.mime if capture.mime and not capture.is_revisit else _mime(content_type)
    encoding = (record.header("Content-Encoding") or "").strip().lower()
    payload = record.body
    textual = mime.lower() in HTML_TYPES or mime.lower() in _UNTYPED or mime.lower() == "text/css"
    if modifier != "id_" and textual and encoding not in ("", "identity"):
        payload = decode_content(record.body, encoding)
        if payload is record.body:  # a coding we cannot undo: send it as stored
            modifier = "id_"
    treatment = choose_treatment(mime, modifier, payload[:64])
    if treatment is Treatment.RAW:
        payload = record.body
    headers = replay_headers(record.headers, header_ctx(treatment is Treatment.RAW))
    if treatment is Treatment.RAW:
        return Body(status, tuple(headers), payload, treatment)
    text = decode_text(payload, content_type, sniff_html=treatment is not Treatment.CSS)
    if treatment is Treatment.CSS:
        out = rewrite_css(text.text, rewriter)
    elif inserts is not None:
        out = rewrite_html(text.text, rewriter, inserts.head, inserts.body)
    else:
        out = rewrite_html(text.text, rewriter)
    return Body(status, tuple(headers), text.encode(out), treatment)


def _mime(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip()


def to_response(
    body: Body,
    extra: list[tuple[str, str]],
    range_header: str | None,
    if_range: str | None,
) -> Response:
    """The HTTP answer: the body's headers, `extra` (Memento), and any byte range asked."""
    headers = list(body.headers) + extra
    status = body.status
    content = body.content
    if body.treatment is Treatment.RAW and status == 200:
        headers.append(("Accept-Ranges", "bytes"))
        ranges = parse_range(range_header, len(content), if_range)
        if ranges is Unsatisfiable.RANGE:
            status, content = 416, b""
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            headers.append(("Content-Range", f"bytes */{len(body.content)}"))
        elif ranges is not None and len(ranges) == 1:
            (r,) = ranges
            status, content = 206, content[r.start : r.end + 1]
            headers.append(("Content-Range", r.content_range(len(body.content))))
        elif ranges is not None:
            boundary = secrets.token_hex(12)
            kind = next((v for k, v in headers if k.lower() == "content-type"), None)
            content = multipart_body(content, ranges, kind, boundary)
            status = 206
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            headers.append(("Content-Type", f"multipart/byteranges; boundary={boundary}"))
    if status < 200 or status in (204, 304):
        content = b""  # these answers have no body (HTTP would refuse one)
    response = Response(content, status_code=status)
    response.raw_headers.extend(_encode(k, v) for k, v in headers if _TOKEN.match(k))
    return response


_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # a valid header name
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _encode(name: str, value: str) -> tuple[bytes, bytes]:
    """A header as bytes: control characters (line breaks: header injection) blanked,
    Latin-1 else UTF-8. Archived headers whose names are not HTTP tokens are dropped."""
    value = _CONTROL.sub(" ", value).strip()
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raw = value.encode("utf-8")
    return name.lower().encode("ascii"), raw
