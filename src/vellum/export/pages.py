"""Entries of a WACZ page list (`pages/pages.jsonl`): URL, time, title and visible text."""

from __future__ import annotations

import codecs
import hashlib
import html
import json
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding
from resiliparse.parse.html import HTMLTree

from vellum.errors import VellumError
from vellum.index.cdxj import Capture
from vellum.urls.timestamps import from_timestamp
from vellum.warc.encoding import charset_of, decode_content
from vellum.warc.reader import read_record

__all__ = [
    "PAGES_HEADER",
    "PageTasks",
    "Resolver",
    "is_page",
    "page_entry",
    "rfc3339",
    "write_pages",
]

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages", "hasText": True}
_PAGE_MIMES = ("text/html", "application/xhtml+xml")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
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
    url, timestamp = url or capture.url, timestamp or capture.timestamp
    title, words = "", ""
    try:
        record = read_record(warc, capture.offset, capture.length)
    except VellumError:
        record = None
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
    encoding = charset or detect_encoding(body, max_len=8192, from_html_meta=True) or "utf-8"
    if not text:  # the title alone: no need to parse the whole document
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
    """

    def __init__(self, path: Path, resolve: Resolver | None = None, text: bool = True) -> None:
        self.path = path
        self._resolve = resolve
        self.text = text
        self._out = open(path, "w", encoding="utf-8")  # noqa: SIM115
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
            task = [str(where), source.to_line(), capture.url, capture.timestamp, self.text]
            self._out.write(json.dumps(task) + "\n")
            self.count += 1

    def close(self) -> None:
        self._out.close()

    def tasks(self) -> Iterator[str]:
        with open(self.path, encoding="utf-8") as f:
            yield from f


def write_pages(tasks: PageTasks, out: IO[str], workers: int | None = None) -> int:
    """Write the header and one line per page noted, in the order noted; returns pages.

    Titles and texts are extracted in a pool of processes (one per core by default):
    it is the costly part of a package with many pages.
    """
    tasks.close()
    header = (
        dict(PAGES_HEADER)
        if tasks.text
        else {k: v for k, v in PAGES_HEADER.items() if k != "hasText"}
    )
    out.write(json.dumps(header) + "\n")
    workers = workers or os.cpu_count() or 1
    if workers == 1 or tasks.count < 64:
        for line in map(_entry_of_task, tasks.tasks()):
            out.write(line + "\n")
        return tasks.count
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(workers) as pool:
        for line in pool.imap(_entry_of_task, tasks.tasks(), chunksize=64):
            out.write(line + "\n")
    return tasks.count


def _entry_of_task(task: str) -> str:
    warc, line, url, timestamp, text = json.loads(task)
    return page_entry(Capture.from_line(line), Path(warc), url, timestamp, text)
