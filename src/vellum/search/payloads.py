"""The search documents of one WARC or ARC file (run in worker processes by the feed)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from vellum.errors import VellumError
from vellum.search.extract import DEFAULT_LIMITS, Extracted, Limits, extract, kind_of
from vellum.search.model import SearchDoc, doc_key
from vellum.urls.surt import surt
from vellum.warc.careful import GZIP_MAGIC
from vellum.warc.encoding import decode_content
from vellum.warc.entry import Entry, Problem, normalize_target_uri
from vellum.warc.headers import warc_date_to_timestamp
from vellum.warc.reader import read_record, scan

__all__ = ["DEFAULT_BATCHING", "Batching", "FileDocs", "batches_of_file", "documents_of_file"]

_TYPES = WarcRecordType.response | WarcRecordType.resource | WarcRecordType.revisit


@dataclass(frozen=True)
class Batching:
    """How much is held in memory at once.

    A batch of a file's output ends at `docs` documents and revisits or at `chars`
    characters of text, whichever comes first; the feed commits the index when its
    uncommitted documents reach `commit_docs` or `commit_chars` characters. Uncommitted
    documents cost little memory (the writer's heap is fixed; the index keeps only their
    keys and capture times), but each commit makes a segment that is merged later: at
    100,000 pages, committing every 50,000 rather than every 10,000 documents took a
    fifth less CPU in the indexing process.
    """

    docs: int = 500
    chars: int = 8_000_000
    commit_docs: int = 50_000
    commit_chars: int = 200_000_000


DEFAULT_BATCHING = Batching()


@dataclass
class FileDocs:
    """What (a batch of) one file gives the index: documents, revisits (key, timestamp),
    and counts. `last` marks the final batch of a file."""

    collection: str
    filename: str
    docs: list[SearchDoc] = field(default_factory=list)
    revisits: list[tuple[str, str]] = field(default_factory=list)
    records: int = 0
    extraction_errors: int = 0
    problems: list[str] = field(default_factory=list)
    unreadable: bool = False  # the file could not be read at all: try again next time
    last: bool = True
    chars: int = 0  # characters of text in `docs`

    def full(self, batching: Batching) -> bool:
        return len(self.docs) + len(self.revisits) >= batching.docs or self.chars >= batching.chars


def documents_of_file(
    collection: str, filename: str, path: Path, limits: Limits = DEFAULT_LIMITS
) -> FileDocs:
    """All of a file's output in one FileDocs (for small files and tools; the feed streams)."""
    out = FileDocs(collection, filename)
    for batch in batches_of_file(collection, filename, path, limits):
        out.docs += batch.docs
        out.revisits += batch.revisits
        out.records += batch.records
        out.extraction_errors += batch.extraction_errors
        out.problems += batch.problems
        out.unreadable = out.unreadable or batch.unreadable
        out.chars += batch.chars
    return out


def batches_of_file(
    collection: str,
    filename: str,
    path: Path,
    limits: Limits = DEFAULT_LIMITS,
    batching: Batching = DEFAULT_BATCHING,
) -> Iterator[FileDocs]:
    """Every successful (2xx) response and resource of a file as a document, revisits apart,
    in batches of bounded size; the last batch has `last` set.

    Bad spots in the file are skipped (and listed), as the importer does. Only one batch
    is held at a time, so memory does not grow with the size of the file.
    """
    reader = _Batcher(collection, filename, batching)
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == GZIP_MAGIC
    except OSError as exc:
        reader.out.problems.append(f"{filename}:0: cannot read: {exc}")
        reader.out.unreadable = True
        yield reader.out
        return
    done_to = -1  # records at offsets up to this one are in a batch already
    if gzipped:
        try:
            yield from _fast(reader, path, limits)
            yield reader.out
            return
        except _Doubt as doubt:  # a damaged stretch: the careful reader says where, goes on
            done_to = doubt.done_to
    try:
        with open(path, "rb") as f:
            for item in scan(path):
                if isinstance(item, Problem):
                    reader.out.problems.append(item.format(filename))
                    continue
                if item.offset <= done_to:
                    continue
                _add(reader.out, item, path, f, limits)
                if reader.out.full(batching):
                    yield reader.take()
    except (OSError, VellumError) as exc:
        reader.out.problems.append(f"{filename}:0: cannot read: {exc}")
        reader.out.unreadable = True
    yield reader.out


class _Doubt(Exception):
    """The fast reader gave up; records at offsets up to `done_to` were read already."""

    def __init__(self, done_to: int) -> None:
        super().__init__(done_to)
        self.done_to = done_to


class _Batcher:
    """The batch being filled; `take` hands it over and starts the next."""

    def __init__(self, collection: str, filename: str, batching: Batching) -> None:
        self.collection, self.filename, self.batching = collection, filename, batching
        self.out = FileDocs(collection, filename)

    def take(self) -> FileDocs:
        batch, self.out = self.out, FileDocs(self.collection, self.filename)
        batch.last = False
        return batch


def _fast(reader: _Batcher, path: Path, limits: Limits) -> Iterator[FileDocs]:
    """One fastwarc pass, in batches; raises _Doubt at the first doubt."""
    done_to = -1
    try:
        with open(path, "rb") as f:
            records = ArchiveIterator(f, record_types=_TYPES, parse_http=True, auto_decode="all")
            fd = f.fileno()
            for record in records:
                pos = record.stream_pos
                if os.pread(fd, 2, pos) != GZIP_MAGIC:
                    raise ValueError(f"record at {pos} does not start a gzip member")
                _add_fast(reader.out, record, limits)
                done_to = pos
                if reader.out.full(reader.batching):
                    yield reader.take()
    except Exception:
        raise _Doubt(done_to) from None


def _add_fast(out: FileDocs, record: WarcRecord, limits: Limits) -> None:
    headers = record.headers
    url = normalize_target_uri(headers.get("WARC-Target-URI"))
    date = headers.get("WARC-Date")
    timestamp = warc_date_to_timestamp(date) if date else None
    if not url or not timestamp or not url.startswith(("http:", "https:")):
        return
    digest = (headers.get("WARC-Payload-Digest") or "").removeprefix("sha1:")
    if record.record_type == WarcRecordType.revisit:
        if digest:
            out.revisits.append((doc_key(out.collection, surt(url), digest), timestamp))
        return
    out.records += 1
    if record.record_type == WarcRecordType.response:
        if not record.is_http:
            return
        status = record.http_headers.status_code or 0
        content_type = record.http_headers.get("Content-Type")
    else:
        status, content_type = 200, headers.get("Content-Type")
    if not 200 <= status < 300:
        return
    payload = None
    if kind_of(_mime(content_type)) != "other":
        payload = bytes(record.reader.read(limits.max_bytes))
    if not digest:
        digest = headers.get("WARC-Block-Digest") or headers.get("WARC-Record-ID") or ""
    _append(out, url, timestamp, digest, status, content_type, payload, limits)


def _add(out: FileDocs, entry: Entry, path: Path, f: BinaryIO, limits: Limits) -> None:
    url, timestamp = entry.target_uri, entry.timestamp
    if entry.rec_type not in ("response", "resource", "revisit") or not url or not timestamp:
        return
    if not url.startswith(("http:", "https:")):
        return
    digest = (entry.payload_digest or "").removeprefix("sha1:")
    if entry.rec_type == "revisit":
        if digest:
            out.revisits.append((doc_key(out.collection, surt(url), digest), timestamp))
        return
    out.records += 1
    if entry.rec_type == "response":
        if entry.http is None:
            return
        try:
            status = int(entry.http.status)
        except ValueError:
            return
        if not 200 <= status < 300:
            return
        content_type = entry.http.get("content-type")
    else:
        status, content_type = 200, entry.content_type
    payload = None
    if kind_of(_mime(content_type)) != "other":
        payload = _payload(path, f, entry, limits.max_bytes)
    _append(out, url, timestamp, digest, status, content_type, payload, limits)


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _append(
    out: FileDocs,
    url: str,
    timestamp: str,
    digest: str,
    status: int,
    content_type: str | None,
    payload: bytes | None,
    limits: Limits,
) -> None:
    extracted = Extracted()
    if payload is not None:
        extracted = extract(payload, content_type, limits)
        if extracted.error is not None:
            out.extraction_errors += 1
    out.chars += len(extracted.main) + len(extracted.boilerplate) + len(extracted.title)
    key = surt(url)
    out.docs.append(
        SearchDoc(
            collection=out.collection,
            url=url,
            surt=key,
            host=(urlsplit(url).hostname or "").lower(),
            digest=digest,
            timestamps=[timestamp],
            mime=_mime(content_type),
            status=status,
            lang=extracted.lang,
            title=extracted.title,
            main=extracted.main,
            description=extracted.description,
            outlinks=extracted.outlinks,
            boilerplate=extracted.boilerplate,
        )
    )


def _payload(path: Path, f: BinaryIO, entry: Entry, limit: int) -> bytes:
    """At most `limit` bytes of a record's payload, transfer and content codings undone."""
    try:
        f.seek(entry.offset)
        for record in ArchiveIterator(f, parse_http=True, auto_decode="all"):
            if record.stream_pos != entry.offset:
                break
            return bytes(record.reader.read(limit))
    except Exception:
        pass
    # ARC files and records fastwarc cannot read: the careful reader, whole record.
    try:
        archived = read_record(path, entry.offset, entry.length)
    except VellumError:
        return b""
    return decode_content(archived.body, archived.header("content-encoding"))[:limit]
