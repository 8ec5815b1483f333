"""Entries of a WACZ page list (`pages/pages.jsonl`): URL, time, title and visible text."""

from __future__ import annotations

import codecs
import hashlib
import html
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding
from resiliparse.parse.html import HTMLTree

from vellum.errors import VellumError
from vellum.index.cdxj import Capture
from vellum.urls.timestamps import from_timestamp
from vellum.warc.encoding import charset_of, decode_content
from vellum.warc.reader import ArchivedRecord, read_record

__all__ = [
    "PAGES_HEADER",
    "PageTasks",
    "Resolver",
    "entry_of_record",
    "is_page",
    "page_entry",
    "pages_header",
    "parse_task",
    "rfc3339",
]

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages", "hasText": True}
_PAGE_MIMES = ("text/html", "application/xhtml+xml")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TITLE_BYTES = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TITLE_WINDOW = 16384  # bytes of a page searched for its title


def is_page(capture: Capture) -> bool:
    """A capture that is a page people visit: an HTML document served with 200."""
    return capture.mime in _PAGE_MIMES and capture.status == "200"


def rfc3339(timestamp: str) -> str:
    """A 14-digit timestamp as RFC 3339 UTC (`2015-12-29T23:14:10Z`)."""
    t = timestamp
    if len(t) != 14 or not t.isdigit():
        return from_timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{t[:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:]}Z"


def page_entry(
    capture: Capture,
    warc: Path,
    url: str | None = None,
    timestamp: str | None = None,
    text: bool = True,
) -> str:
    """The JSON line of one page, its title and text read from its record in `warc`.

    `url` and `timestamp` are those the page is listed under, if not the capture's own
    (a revisit listed with its original's text). Without `text`, only the title is read.
    """
    try:
        record = read_record(warc, capture.offset, capture.length)
    except VellumError:
        record = None
    return entry_of_record(record, capture, url, timestamp, text)


def entry_of_record(
    record: ArchivedRecord | None,
    capture: Capture,
    url: str | None = None,
    timestamp: str | None = None,
    text: bool = True,
) -> str:
    """The JSON line of one page from its record, already read (None: unreadable)."""
    url, timestamp = url or capture.url, timestamp or capture.timestamp
    title, words = "", ""
    if record is not None:
        body = decode_content(record.body, record.header("Content-Encoding"))
        title, words = _title_and_text(body, charset_of(record.header("Content-Type")), text)
    ident = hashlib.sha1(f"{timestamp} {url}".encode()).hexdigest()[:24]
    entry: dict[str, object] = {"id": ident, "url": url, "ts": rfc3339(timestamp)}
    if title:
        entry["title"] = title
    if text:
        entry["text"] = words
    entry["size"] = capture.length
    return json.dumps(entry)  # ASCII-escaped: the C encoder's fast path


def _codec(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return "utf-8"


def _title_and_text(body: bytes, charset: str | None, text: bool = True) -> tuple[str, str]:
    """The page's title and its visible text (scripts, styles and markup left out)."""
    if not text:  # the title alone: no need to parse the whole document
        found_bytes = _TITLE_BYTES.search(body, 0, _TITLE_WINDOW)
        if found_bytes is not None:  # an ASCII-compatible encoding: decode the title only
            raw = found_bytes.group(1)
            if raw.isascii():
                return " ".join(html.unescape(raw.decode("ascii")).split()), ""
            encoding = charset or detect_encoding(body, max_len=8192, from_html_meta=True)
            decoded = raw.decode(_codec(encoding or "utf-8"), "replace")
            return " ".join(html.unescape(decoded).split()), ""
    encoding = charset or detect_encoding(body, max_len=8192, from_html_meta=True) or "utf-8"
    if not text:  # no title found in the bytes (UTF-16, say): decode and look again
        head = body[:_TITLE_WINDOW].decode(_codec(encoding), "replace")
        found = _TITLE.search(head)
        return (" ".join(html.unescape(found.group(1)).split()) if found else ""), ""
    try:
        tree = HTMLTree.parse_from_bytes(body, encoding)
    except (LookupError, ValueError):
        tree = HTMLTree.parse_from_bytes(body, "utf-8")
    title = " ".join((tree.title or "").split())
    return title, extract_plain_text(tree, preserve_formatting=False).strip()


Resolver = Callable[[Capture], tuple[Capture, Path] | None]
"""The capture holding a revisit's payload, and the WARC file it is in."""


class PageTasks:
    """The pages to describe, noted while the package is written (a temporary file):
    which capture, read from which WARC file, listed under which URL and time.

    A revisit of a page is a page too (a later visit of it, perhaps the only one a
    subset holds): its title and text come from the capture holding its payload.
    Each task is a line that sorts by source file (in the order first met) and offset,
    so that a worker can read each file once, front to back (`vellum.export.page_pool`).
    """

    def __init__(self, path: Path, resolve: Resolver | None = None, text: bool = True) -> None:
        self.path = path
        self._resolve = resolve
        self.text = text
        self._out = open(path, "wb")  # noqa: SIM115
        self._files: dict[Path, int] = {}
        self.count = 0

    def offer(self, capture: Capture, warc: Path) -> None:
        """Note the capture if it is a page (or a revisit of one)."""
        source, where = capture, warc
        if capture.is_revisit and capture.status == "200" and self._resolve is not None:
            found = self._resolve(capture)
            if found is None:
                return
            source, where = found
        if is_page(source):
            number = self._files.setdefault(where, len(self._files))
            task = json.dumps([str(where), source.to_line(), capture.url, capture.timestamp])
            self._out.write(f"{number:08d} {source.offset:016d} {task}\n".encode())
            self.count += 1

    def close(self) -> None:
        self._out.close()

    def tasks(self) -> Iterator[bytes]:
        """The task lines, as noted (not sorted)."""
        self.close()
        with open(self.path, "rb") as f:
            for line in f:
                yield line.rstrip(b"\n")


def parse_task(line: bytes) -> tuple[str, Capture, str, str]:
    """A task line: the WARC file to read, the capture there, the URL and time listed."""
    warc, capture_line, url, timestamp = json.loads(line.split(b" ", 2)[2])
    return warc, Capture.from_line(capture_line), url, timestamp


def pages_header(text: bool) -> str:
    """The first line of `pages.jsonl`."""
    header = (
        dict(PAGES_HEADER) if text else {k: v for k, v in PAGES_HEADER.items() if k != "hasText"}
    )
    return json.dumps(header)
