"""Read WARC records (gzip per record or uncompressed) with fastwarc."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecord

from vellum.errors import VellumError


@dataclass(frozen=True)
class ArchivedRecord:
    """A record read back for replay: the HTTP message as stored, payload de-chunked."""

    record_type: str
    url: str
    date: datetime
    status: int | None
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


@dataclass(frozen=True)
class RecordPosition:
    """A record met while scanning a file, with the byte range of its (compressed) member."""

    record: WarcRecord
    offset: int
    length: int


def read_record(path: Path, offset: int, length: int) -> ArchivedRecord:
    """The record stored at `offset` (`length` bytes, compressed) in the WARC at `path`."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            raw = f.read(length)
    except OSError as exc:
        raise VellumError(f"cannot read {path}: {exc.strerror}") from None
    for record in ArchiveIterator(io.BytesIO(raw), parse_http=True, auto_decode="transfer"):
        return _archived(record)
    raise VellumError(f"no WARC record at offset {offset} of {path.name}")


def iter_positions(path: Path, start: int = 0) -> Iterator[RecordPosition]:
    """Every record from byte `start` on, with the offset and length of each."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
        f.seek(start)
        previous: WarcRecord | None = None
        previous_pos = 0
        for record in ArchiveIterator(f, parse_http=False):
            pos = start + record.stream_pos
            if previous is not None:
                yield _position(f, previous, previous_pos, pos, gzipped)
            record.freeze()  # keep its payload readable after the iterator moves on
            previous, previous_pos = record, pos
        if previous is not None:
            yield _position(f, previous, previous_pos, size, gzipped)


def _position(
    f: BinaryIO, record: WarcRecord, start: int, end: int, gzipped: bool
) -> RecordPosition:
    """A record's byte range: a whole gzip member, or (uncompressed) up to its block's end.

    In an uncompressed file the CRLF CRLF after a block is left out, as warcio and
    cdxj-indexer count it.
    """
    if not gzipped:
        here = f.tell()
        f.seek(max(start, end - 4))
        tail = f.read(end - max(start, end - 4))
        f.seek(here)
        end -= len(tail) - len(tail.rstrip(b"\r\n"))
    return RecordPosition(record, start, end - start)


def _archived(record: WarcRecord) -> ArchivedRecord:
    url = (record.headers.get("WARC-Target-URI") or "").strip("<>")
    headers: list[tuple[str, str]] = []
    status: int | None = None
    reason = ""
    if record.is_http:
        http = record.http_headers
        status = http.status_code
        reason = http.reason_phrase or ""
        headers = list(http.astuples())
    elif record.headers.get("Content-Type"):
        headers = [("Content-Type", record.headers.get("Content-Type") or "")]
    return ArchivedRecord(
        record_type=str(record.record_type),
        url=url,
        date=record.record_date,
        status=status,
        reason=reason,
        headers=headers,
        body=record.reader.read(),
    )
