"""The fast reader: `.warc.gz` files read with fastwarc, checked as they go.

fastwarc inflates and splits the records; this module takes from each record only what
the index needs, reading no more of its block than the HTTP head unless a digest must be
computed. Where fastwarc fails or something does not add up — a record that does not
start a gzip member, a decompression error, the end of the file — the careful reader
(`vellum.warc.careful`) takes over from the last record not yet confirmed, and hands
back once it has read a clean record again.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordPayloadReader, WarcRecordType

from vellum.warc.careful import GZIP_MAGIC, MemberScan
from vellum.warc.entry import (
    WANTED_TYPES,
    Entry,
    Problem,
    decode_request_body,
    is_body_request,
    normalize_target_uri,
    payload_sha1,
)
from vellum.warc.headers import HeadBlock, has_head_end, warc_date_to_timestamp
from vellum.warc.record import MAX_HEAD, http_of

__all__ = ["scan_gzip"]

_PEEK = 4096
_HTTP_SCHEMES = ("http:", "https:")


def scan_gzip(path: Path, buf: mmap.mmap) -> Iterator[Entry | Problem]:
    """Every record of a gzipped WARC file (one member per record), and every bad spot."""
    size = len(buf)
    pos = 0
    while pos < size:
        fast = _FastRun(path, buf, pos)
        yield from fast
        careful = MemberScan(buf, fast.stopped_at, until_clean=True)
        yield from careful
        pos = careful.resume_at


class _FastRun:
    """fastwarc from `start` until the end or the first doubt; then `stopped_at` is set.

    An entry is yielded once the next record has been found (that is when its length is
    known); the record not yet yielded when the run stops is left to the careful reader.
    """

    def __init__(self, path: Path, buf: mmap.mmap, start: int) -> None:
        self._path = path
        self._buf = buf
        self._start = start
        self.stopped_at = start

    def __iter__(self) -> Iterator[Entry]:
        buf = self._buf
        pending: Entry | None = None
        last = self._start - 1
        dates = _DateCache()
        with open(self._path, "rb") as f:
            f.seek(self._start)
            records = iter(ArchiveIterator(f, parse_http=False))
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except Exception:
                    break
                pos = record.stream_pos
                if pos <= last or buf[pos : pos + 2] != GZIP_MAGIC:
                    break  # a record inside a member: let the careful reader say what
                if pending is not None:
                    pending.length = pos - pending.offset
                    yield pending
                try:
                    pending = _entry(record, pos, dates)
                except Exception:
                    pending = None
                    break
                last = pos
        # The last record not yet yielded is read again by the careful reader, which also
        # checks that its member ends the file (or says what follows it).
        self.stopped_at = pending.offset if pending is not None else max(last, self._start)


class _DateCache:
    """WARC-Date to timestamp, remembering the last one (records come in pairs)."""

    __slots__ = ("date", "timestamp")

    def __init__(self) -> None:
        self.date = ""
        self.timestamp: str | None = None

    def __call__(self, date: str) -> str | None:
        if date != self.date:
            self.date, self.timestamp = date, warc_date_to_timestamp(date)
        return self.timestamp


_TYPES = {
    int(kind): str(kind)
    for kind in (
        WarcRecordType.warcinfo,
        WarcRecordType.response,
        WarcRecordType.resource,
        WarcRecordType.request,
        WarcRecordType.metadata,
        WarcRecordType.revisit,
        WarcRecordType.conversion,
        WarcRecordType.continuation,
    )
}


# Header names as writers spell them; a record with others has its names lowercased.
_CANONICAL = frozenset(
    (
        "WARC-Type",
        "WARC-Record-ID",
        "WARC-Date",
        "Content-Length",
        "Content-Type",
        "WARC-Concurrent-To",
        "WARC-Block-Digest",
        "WARC-Payload-Digest",
        "WARC-IP-Address",
        "WARC-Refers-To",
        "WARC-Refers-To-Target-URI",
        "WARC-Refers-To-Date",
        "WARC-Target-URI",
        "WARC-Truncated",
        "WARC-Warcinfo-ID",
        "WARC-Filename",
        "WARC-Profile",
        "WARC-Identified-Payload-Type",
        "WARC-Segment-Origin-ID",
        "WARC-Segment-Number",
        "WARC-Segment-Total-Length",
    )
)
_NAMES = {name.lower(): name for name in _CANONICAL}


def _fields(record: WarcRecord) -> dict[str, str]:
    """The WARC headers under their usual names, the first of a name winning (as warcio)."""
    items = record.headers.items()
    fields = dict(reversed(items))
    if not _CANONICAL.issuperset(fields):
        fields = {_NAMES.get(name.lower(), name.lower()): value for name, value in reversed(items)}
    uri = fields.get("WARC-Target-URI")
    if uri is not None and "\ufffd" in uri:  # not UTF-8: warcio reads it as Latin-1
        raw = record.headers.get_bytes(b"WARC-Target-URI")
        if raw is not None:
            try:
                fields["WARC-Target-URI"] = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                fields["WARC-Target-URI"] = raw.decode("iso-8859-1").strip()
    return fields


def _entry(record: WarcRecord, offset: int, dates: _DateCache) -> Entry:
    """The Entry of a record met by fastwarc (its length is set when the next one comes)."""
    fields = _fields(record)
    rec_type = _TYPES.get(int(record.record_type)) or fields.get("WARC-Type")
    if rec_type not in WANTED_TYPES:
        return Entry(offset, 0, rec_type, None, None, None, None, None, None, None, None)
    uri = fields.get("WARC-Target-URI")
    if uri is not None and (uri[:1] == "<" or " " in uri):
        uri = normalize_target_uri(uri)
    date = fields.get("WARC-Date")
    http: HeadBlock | None = None
    digest = fields.get("WARC-Payload-Digest")
    body: bytes | None = None
    length = record.content_length
    if length > 0 and uri is not None and uri.startswith(_HTTP_SCHEMES) and rec_type != "resource":
        reader = record.reader
        prefix = reader.read(_PEEK)
        if rec_type == "request":
            space = prefix.find(b" ", 0, 64)
            method = prefix[:space] if space >= 0 else b""
            if method.isalpha() and method.isupper() and method not in (b"POST", b"PUT"):
                http = HeadBlock(method.decode("ascii"), "", ())  # only its method matters
            if http is None:
                prefix = _head_prefix(prefix, reader, length)
                http, used = http_of(prefix, rec_type, uri)
                if is_body_request(http):
                    assert http is not None
                    body = decode_request_body(http, prefix[used:] + reader.read())
                elif http is not None:
                    http = HeadBlock(http.first, "", ())
        else:
            prefix = _head_prefix(prefix, reader, length)
            http, used = http_of(prefix, rec_type, uri)
            if digest is None:
                digest = payload_sha1(_chunks(prefix[used:], record))
    elif digest is None and rec_type != "request":
        digest = payload_sha1(_chunks(b"", record))
    return Entry(
        offset,
        0,
        rec_type,
        uri,
        date,
        dates(date) if date is not None else None,
        fields.get("WARC-Record-ID"),
        fields.get("WARC-Concurrent-To"),
        fields.get("Content-Type"),
        digest,
        http,
        body,
    )


def _head_prefix(prefix: bytes, reader: WarcRecordPayloadReader, length: int) -> bytes:
    """The start of a block, long enough to hold its whole HTTP head (or the whole block)."""
    if length > len(prefix) and not has_head_end(prefix):
        prefix += reader.read(MAX_HEAD - len(prefix))
        if not has_head_end(prefix):
            prefix += reader.read()
    return prefix


def _chunks(first: bytes, record: WarcRecord) -> Iterator[bytes]:
    yield first
    while chunk := record.reader.read(1 << 20):
        yield chunk
