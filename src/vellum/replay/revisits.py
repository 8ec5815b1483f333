"""Resolve a revisit record to the capture that holds its payload.

A revisit says "same payload as before" and stores no body. Its original is found:

1. by `WARC-Refers-To-Target-URI` and `WARC-Refers-To-Date` when the revisit has them
   (this also finds an original under another URL, as deduplicating crawlers write);
2. else by digest among the captures of the revisit's own URL key, closest in time.

A digest lookup across URLs without those headers would need a digest index, which
Vellum does not keep: such a revisit is not replayed. A revisit pointing at another
revisit is never taken as an original (internetarchive/wayback#118).

The answer combines both records as pywb does: the revisit's status and headers when it
stored them (an identical-payload revisit), else the original's (a `304` revisit, or one
with no HTTP block); always the original's payload.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from fastwarc.warc import ArchiveIterator

from vellum.errors import VellumError
from vellum.index.cdxj import Capture
from vellum.index.query import CdxQuery
from vellum.index.store import IndexStore
from vellum.urls.timestamps import is_timestamp
from vellum.warc.headers import warc_date_to_timestamp
from vellum.warc.reader import ArchivedRecord

__all__ = ["RevisitRefs", "merge_revisit", "original_of", "read_refs"]

_SEARCH = 32  # captures looked at around the referred-to time


@dataclass(frozen=True)
class RevisitRefs:
    """What a revisit record's WARC headers say about its original."""

    target_uri: str | None
    timestamp: str | None  # 14 digits, from WARC-Refers-To-Date


def read_refs(path: Path, offset: int, length: int) -> RevisitRefs:
    """The Refers-To fields of the revisit record at `offset` in `path`."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            raw = f.read(length)
    except OSError as exc:
        raise VellumError(f"cannot read {path}: {exc.strerror}") from None
    for record in ArchiveIterator(io.BytesIO(raw), parse_http=False):
        target = record.headers.get("WARC-Refers-To-Target-URI")
        date = record.headers.get("WARC-Refers-To-Date")
        ts = warc_date_to_timestamp(date) if date else None
        return RevisitRefs(target.strip("<> ") if target else None, ts)
    return RevisitRefs(None, None)


def original_of(
    store: IndexStore, revisit: Capture, warc_path: Callable[[str], Path]
) -> Capture | None:
    """The non-revisit capture holding the payload of `revisit`, or None if none is indexed."""
    refs = read_refs(warc_path(revisit.filename), revisit.offset, revisit.length)
    if refs.target_uri:
        found = _by_reference(store, revisit, refs)
        if found is not None:
            return found
    for c in store.query(
        CdxQuery(
            revisit.url,
            from_ts=revisit.timestamp,
            to_ts=revisit.timestamp,
            resolve_revisits=True,
        )
    ):
        if c.offset == revisit.offset and c.filename == revisit.filename:
            return c.original
    return None


def _by_reference(store: IndexStore, revisit: Capture, refs: RevisitRefs) -> Capture | None:
    assert refs.target_uri is not None
    when = refs.timestamp if refs.timestamp and is_timestamp(refs.timestamp) else None
    query = CdxQuery(refs.target_uri, closest=when or revisit.timestamp, limit=_SEARCH)
    fallback = None
    for c in store.query(query):
        if c.is_revisit:
            continue
        if revisit.digest and c.digest and c.digest != revisit.digest:
            continue
        if when is None or c.timestamp == when:
            return c
        fallback = fallback or c
    return fallback


def merge_revisit(revisit: ArchivedRecord, original: ArchivedRecord) -> ArchivedRecord:
    """The record to replay for a revisit: see the module doc for which headers win."""
    if revisit.status is not None and revisit.status != 304 and revisit.headers:
        return replace(revisit, record_type="response", body=original.body)
    return replace(original, date=revisit.date, url=revisit.url or original.url)
