"""Which capture answers a replay request: closest in time, usable, fuzzy as a last resort.

A capture is usable unless it is a redirect to its own URL key (http→https, `www.`,
a trailing slash: replaying it would loop, pywb#18/#73/#345), or a revisit whose
original is not in the index. Candidates are read lazily in order of distance from the
time asked for, so a URL with 50,000 captures costs a seek, not a scan.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urljoin

from vellum.index.cdxj import Capture
from vellum.index.query import CdxQuery
from vellum.index.store import IndexStore
from vellum.replay.fuzzy import fuzzy_candidates
from vellum.replay.resolve import closest
from vellum.replay.revisits import merge_revisit, original_of
from vellum.urls.surt import surt
from vellum.urls.timestamps import pad_high
from vellum.warc.reader import ArchivedRecord, read_record

__all__ = ["Found", "find_capture", "iri_to_uri", "read_found", "same_url"]

_HEAD = 16  # candidates ranked together (exact-URL preference) before the rest stream in
# Printable ASCII stays as it is, except what would break a header or a `<URL>` link.
_SAFE = "!#$%&'()*+,-./:;=?@[]~_^`{|}\\"


@dataclass(frozen=True)
class Found:
    """The capture chosen, and for a revisit the capture holding its payload."""

    capture: Capture
    original: Capture | None = None
    fuzzy: bool = False


def iri_to_uri(url: str) -> str:
    """Percent-encode what cannot go into a header or a URL as is (non-ASCII, spaces)."""
    return quote(url, safe=_SAFE)


def same_url(a: str, b: str) -> bool:
    """Whether two URLs are the same once encoded for the wire.

    Also when they differ only in escaping: browsers escape `'` in a query where
    `iri_to_uri` does not, and a redirect from one spelling to the other never ends.
    """
    return a == b or iri_to_uri(a) == iri_to_uri(b) or unquote(a) == unquote(b)


def find_capture(
    store: IndexStore,
    url: str,
    timestamp: str,
    warc_path: Callable[[str], Path],
) -> Found | None:
    """The best usable capture of `url` for `timestamp` ("" for the latest), or None."""
    when = pad_high(timestamp) if timestamp else "99991231235959"
    stream = store.query(CdxQuery(url, closest=when))
    head = list(itertools.islice(stream, _HEAD))
    fuzzy = False
    if not head:
        head = fuzzy_candidates(store, url)
        stream, fuzzy = iter(()), True
    candidates: Iterator[Capture] = itertools.chain(closest(head, url, timestamp), stream)
    for capture in candidates:
        original = None
        if capture.is_revisit:
            original = original_of(store, capture, warc_path)
            if original is None:
                continue
        elif capture.status.startswith("3") and _redirects_to_itself(capture, warc_path):
            continue
        return Found(capture, original, fuzzy)
    return None


def _redirects_to_itself(capture: Capture, warc_path: Callable[[str], Path]) -> bool:
    record = read_record(warc_path(capture.filename), capture.offset, capture.length)
    location = (record.header("Location") or "").strip()
    return bool(location) and surt(urljoin(capture.url, location)) == capture.urlkey


def read_found(found: Found, warc_path: Callable[[str], Path]) -> ArchivedRecord:
    """The record to replay for `found`: a revisit gets its original's payload."""
    c = found.capture
    record = read_record(warc_path(c.filename), c.offset, c.length)
    if found.original is None:
        return record
    o = found.original
    return merge_revisit(record, read_record(warc_path(o.filename), o.offset, o.length))
