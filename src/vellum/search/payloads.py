"""The search documents of one WARC or ARC file (run in worker processes by the feed)."""

from __future__ import annotations

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

__all__ = ["FileDocs", "documents_of_file"]

_TYPES = WarcRecordType.response | WarcRecordType.resource | WarcRecordType.revisit


@dataclass
class FileDocs:
    """What one file gives the index: documents, revisits (key, timestamp), and counts."""

    collection: str
    filename: str
    docs: list[SearchDoc] = field(default_factory=list)
    revisits: list[tuple[str, str]] = field(default_factory=list)
    records: int = 0
    extraction_errors: int = 0
    problems: list[str] = field(default_factory=list)
    unreadable: bool = False  # the file could not be read at all: try again next time


def documents_of_file(
    collection: str, filename: str, path: Path, limits: Limits = DEFAULT_LIMITS
) -> FileDocs:
    """Every successful (2xx) response and resource of a file as a document; revisits apart.

    Bad spots in the file are skipped (and listed), as the importer does.
    """
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == GZIP_MAGIC
    except OSError as exc:
        return FileDocs(
            collection, filename, problems=[f"{filename}:0: cannot read: {exc}"], unreadable=True
        )
    if gzipped:
        try:
            return _fast(collection, filename, path, limits)
        except Exception:  # a damaged stretch: the careful reader says where, and goes on
            pass
    out = FileDocs(collection, filename)
    try:
        with open(path, "rb") as f:
            for item in scan(path):
                if isinstance(item, Problem):
                    out.problems.append(item.format(filename))
                    continue
                _add(out, item, path, f, limits)
    except (OSError, VellumError) as exc:
        out.problems.append(f"{filename}:0: cannot read: {exc}")
        out.unreadable = True
    return out


def _fast(collection: str, filename: str, path: Path, limits: Limits) -> FileDocs:
    """One fastwarc pass; raises at the first doubt (the caller then reads carefully)."""
    out = FileDocs(collection, filename)
    with open(path, "rb") as f:
        records = ArchiveIterator(f, record_types=_TYPES, parse_http=True, auto_decode="all")
        for record in records:
            pos = record.stream_pos
            f_pos = f.tell()
            f.seek(pos)
            if f.read(2) != GZIP_MAGIC:
                raise ValueError(f"record at {pos} does not start a gzip member")
            f.seek(f_pos)
            _add_fast(out, record, limits)
    return out


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
    out.docs.append(
        SearchDoc(
            collection=out.collection,
            url=url,
            surt=surt(url),
            host=(urlsplit(url).hostname or "").lower(),
            digest=digest,
            timestamps=[timestamp],
            mime=_mime(content_type),
            status=status,
            lang=extracted.lang,
            title=extracted.title,
            text=extracted.text,
            main=extracted.main,
            description=extracted.description,
            outlinks=extracted.outlinks,
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
