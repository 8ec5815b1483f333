"""Read WARC and ARC files: every record with its position, or one record for replay.

`scan` is the front door for indexing: it looks at what kind of file it is given and
yields an `Entry` for every record and a `Problem` for every bad spot, never stopping at
the first one and never raising for what the file holds. `.warc.gz` files are read with
fastwarc (`vellum.warc.fast`); uncompressed and ARC files, and any damaged stretch of a
`.warc.gz`, by the careful reader (`vellum.warc.careful`).
"""

from __future__ import annotations

import io
import mmap
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecord

from vellum.errors import VellumError
from vellum.warc.careful import GZIP_MAGIC, MemberScan, scan_plain
from vellum.warc.entry import Entry, Problem, dechunk, normalize_target_uri
from vellum.warc.exchange import first_header
from vellum.warc.fast import scan_gzip
from vellum.warc.headers import parse_head
from vellum.warc.record import parse_record_head
from vellum.warc.sniff import Kind, Sniffed, sniff

__all__ = [
    "ArchivedRecord",
    "Entry",
    "Problem",
    "RecordPosition",
    "iter_positions",
    "read_record",
    "scan",
    "sniff_file",
]


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
        """The first stored header with this name (case-insensitive), if any."""
        return first_header(self.headers, name)


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
    try:
        for record in ArchiveIterator(io.BytesIO(raw), parse_http=True, auto_decode="transfer"):
            return _archived(record)
    except OSError:
        pass
    arc = _archived_arc(raw)
    if arc is not None:
        return arc
    raise VellumError(f"no WARC record at offset {offset} of {path.name}")


def scan(path: Path) -> Iterator[Entry | Problem]:
    """Every record of a WARC or ARC file with its position, and every bad spot in it.

    Raises VellumError only if the file cannot be opened or read at all.
    """
    try:
        with open(path, "rb") as f:
            if not f.seek(0, 2):
                yield Problem(0, "empty file")
                return
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                kind = sniff(buf).kind
                if kind is Kind.WARC_GZ:
                    yield from scan_gzip(path, buf)
                elif kind is Kind.ARC_GZ:
                    yield from MemberScan(buf, 0)
                elif kind in (Kind.WARC, Kind.ARC):
                    yield from scan_plain(buf)
                else:
                    yield Problem(0, "not a WARC or ARC file")
    except OSError as exc:
        raise VellumError(f"cannot read {path}: {exc.strerror or exc}") from None


def sniff_file(path: Path) -> Sniffed:
    """The kind of file at `path` (see `vellum.warc.sniff`)."""
    try:
        with open(path, "rb") as f:
            if not f.seek(0, 2):
                return Sniffed(Kind.EMPTY)
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return sniff(buf)
    except OSError as exc:
        raise VellumError(f"cannot read {path}: {exc.strerror or exc}") from None


def iter_positions(path: Path, start: int = 0) -> Iterator[RecordPosition]:
    """Every record from byte `start` on, with the offset and length of each."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
        f.seek(start)
        previous: WarcRecord | None = None
        previous_pos = 0
        for record in ArchiveIterator(f, parse_http=False):
            pos = record.stream_pos  # an absolute offset, also after the seek
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
    url = normalize_target_uri(record.headers.get("WARC-Target-URI")) or ""
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


def _archived_arc(raw: bytes) -> ArchivedRecord | None:
    """An ARC record (gzipped or not) read back for replay, or None if `raw` holds none."""
    data = raw
    if raw[:2] == GZIP_MAGIC:
        try:
            data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw)
        except zlib.error:
            return None
    head = parse_record_head(data, 0, len(data))
    if head is None or head.rec_type != "response" or head.timestamp is None:
        return None
    block = data[head.body_start : head.body_start + head.content_length]
    status: int | None = None
    reason = ""
    headers: list[tuple[str, str]] = []
    body = block
    if (head.target_uri or "").startswith(("http:", "https:")) and block:
        http, used = parse_head(block)
        if http.status.isdigit():
            status = int(http.status)
        reason = http.rest.partition(" ")[2]
        headers = list(http.headers)
        body = block[used:]
        if http.get("transfer-encoding") == "chunked":
            body = dechunk(body)
    return ArchivedRecord(
        record_type="response",
        url=head.target_uri or "",
        date=datetime.strptime(head.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC),
        status=status,
        reason=reason,
        headers=headers,
        body=body,
    )
