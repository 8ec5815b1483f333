"""Write WARC/1.1 files: one gzip member per record, rotation, `.open` until closed.

Records are serialized here (not with warcio) because the crawler writes thousands per
second; `tests/crawl` checks the output with `warcio check` and cdxj-indexer.

A crawl hands over a *group* of records (a response or revisit, its request, its
metadata) which is compressed in memory and written with one `write()`, so that a
killed process leaves at most one torn group at the end of a `.open` file, which
`vellum.capture.recovery` cuts off.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from vellum import __version__
from vellum.clock import Clock, system_clock
from vellum.urls.timestamps import to_timestamp, warc_date
from vellum.warc.exchange import HttpExchange

IdFactory = Callable[[], str]
ROTATE_BYTES = 1_000_000_000  # about 1 GB per file, as Annex C and Heritrix do
OPEN_SUFFIX = ".open"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
HTTP_RESPONSE = "application/http; msgtype=response"
HTTP_REQUEST = "application/http; msgtype=request"


def uuid_record_id() -> str:
    """A fresh `<urn:uuid:…>` WARC-Record-ID (a random, version 4 UUID, as `uuid.uuid4`
    makes, without building the UUID object: the crawler needs three per page)."""
    b = bytearray(os.urandom(16))
    b[6] = b[6] & 0x0F | 0x40
    b[8] = b[8] & 0x3F | 0x80
    h = b.hex()
    return f"<urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}>"


# The records of one exchange share its date: format it once.
_warc_date = lru_cache(maxsize=16)(warc_date)


def sha1_digest(data: bytes) -> str:
    """`sha1:` and the Base32 SHA-1 of `data`, as Heritrix and warcio write it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


@dataclass(frozen=True)
class Record:
    """One WARC record to write: its type, named fields and block."""

    record_type: str
    fields: list[tuple[str, str]]
    block: bytes
    # What an index needs, for response, revisit and resource records.
    url: str = ""
    date: datetime | None = None
    status: int | None = None
    mime: str = ""
    payload_digest: str = ""


@dataclass(frozen=True)
class StoredRecord:
    """Where one record landed, and what an index needs to know about it."""

    filename: str
    offset: int
    length: int  # compressed size of the gzip member
    record_type: str
    record_id: str
    url: str
    timestamp: str  # 14 digits
    status: int | None
    mime: str
    payload_digest: str  # "sha1:BASE32"


def serialize(record: Record) -> bytes:
    """The uncompressed bytes of one record: version line, fields, block, CRLF CRLF."""
    head = ["WARC/1.1"]
    head.extend(f"{name}: {value}" for name, value in record.fields)
    head.append(f"WARC-Block-Digest: {sha1_digest(record.block)}")
    head.append(f"Content-Length: {len(record.block)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("utf-8") + record.block + b"\r\n\r\n"


@dataclass(frozen=True)
class PreparedGroup:
    """A group of records serialized and compressed, ready to append (see `prepare_group`)."""

    records: list[Record]
    members: list[bytes]  # one gzip member per record


def compress_member(data: bytes, level: int) -> bytes:
    """`data` as one gzip member."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def prepare_group(records: list[Record], level: int) -> PreparedGroup:
    """Serialize and compress `records`: pure, so it may run in a worker thread (zlib and
    hashlib release the GIL) while the crawl goes on."""
    return PreparedGroup(records, [compress_member(serialize(r), level) for r in records])


def http_response_head(exchange: HttpExchange) -> bytes:
    """Status line and headers as received (latin-1 round trip), ending with the blank line."""
    status = f"{exchange.protocol} {exchange.status}"
    if exchange.reason:
        status += " " + exchange.reason
    return _head(status, exchange.response_headers)


def http_request_head(exchange: HttpExchange) -> bytes:
    """Request line and headers as sent."""
    return _head(f"{exchange.method} {exchange.request_target} HTTP/1.1", exchange.request_headers)


def _head(first: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [first, *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def exchange_records(
    exchange: HttpExchange,
    response_id: str,
    request_id: str,
    revisit_of: tuple[str, str, datetime] | None = None,
    payload_digest: str | None = None,
) -> tuple[Record, Record]:
    """The response (or, if `revisit_of` = (record id, URL, date), revisit) and request."""
    date = _warc_date(exchange.date)
    digest = payload_digest or sha1_digest(exchange.body)
    head = http_response_head(exchange)
    common = [("WARC-Date", date), ("WARC-Target-URI", exchange.url)]
    ip = [("WARC-IP-Address", exchange.ip_address)] if exchange.ip_address else []
    fields = [("WARC-Record-ID", response_id), *common, *ip]
    if revisit_of is None:
        fields += [("WARC-Concurrent-To", request_id), ("Content-Type", HTTP_RESPONSE)]
        fields.append(("WARC-Payload-Digest", digest))
        if exchange.truncated:
            fields.append(("WARC-Truncated", exchange.truncated))
        response = Record(
            "response",
            [("WARC-Type", "response"), *fields],
            head + exchange.body,
            exchange.url,
            exchange.date,
            exchange.status,
            exchange.mime,
            digest,
        )
    else:
        original_id, original_url, original_date = revisit_of
        fields += [
            ("WARC-Concurrent-To", request_id),
            ("Content-Type", HTTP_RESPONSE),
            ("WARC-Payload-Digest", digest),
            ("WARC-Profile", REVISIT_PROFILE),
            ("WARC-Refers-To", original_id),
            ("WARC-Refers-To-Target-URI", original_url),
            ("WARC-Refers-To-Date", _warc_date(original_date)),
            ("WARC-Truncated", "length"),
        ]
        response = Record(
            "revisit",
            [("WARC-Type", "revisit"), *fields],
            head,
            exchange.url,
            exchange.date,
            exchange.status,
            "warc/revisit",
            digest,
        )
    request_fields = [
        ("WARC-Type", "request"),
        ("WARC-Record-ID", request_id),
        *common,
        *ip,
        ("WARC-Concurrent-To", response_id),
        ("Content-Type", HTTP_REQUEST),
    ]
    request = Record("request", request_fields, http_request_head(exchange) + exchange.request_body)
    return response, request


def metadata_record(
    record_id: str, url: str, date: datetime, refers_to: str, values: list[tuple[str, str]]
) -> Record:
    """A `metadata` record about `refers_to` (outlinks, hop path…) as warc-fields."""
    if any("\r" in value or "\n" in value for _, value in values):
        values = [(name, _one_line(value)) for name, value in values]
    block = "".join([f"{name}: {value}\r\n" for name, value in values]).encode()
    return Record(
        "metadata",
        [
            ("WARC-Type", "metadata"),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", _warc_date(date)),
            ("WARC-Target-URI", url),
            ("WARC-Refers-To", refers_to),
            ("WARC-Concurrent-To", refers_to),
            ("Content-Type", "application/warc-fields"),
        ],
        block,
    )


def _one_line(value: str) -> str:
    return value.replace("\r", "%0D").replace("\n", "%0A")


@dataclass
class WarcFileWriter:
    """Appends groups of records to rotating `.warc.gz` files in one directory.

    Files are named `<prefix>-<YYYYMMDDhhmmss>-<serial>-<host>.warc.gz`, written as
    `….warc.gz.open` and renamed when closed; `on_open` hears a file's final name
    before anything is written to it, `on_close` its path once renamed.
    """

    directory: Path
    prefix: str
    warcinfo: dict[str, str]
    clock: Clock = system_clock
    record_id: IdFactory = uuid_record_id
    rotate_bytes: int = ROTATE_BYTES
    first_serial: int = 1
    gzip_level: int = 6
    on_open: Callable[[str], None] = lambda _name: None
    on_close: Callable[[Path], None] = lambda _path: None
    files: list[Path] = field(default_factory=list)
    _file: BinaryIO | None = None
    _name: str = ""
    _size: int = 0

    def __post_init__(self) -> None:
        self._serial = self.first_serial - 1
        self._host = socket.gethostname().split(".")[0] or "localhost"

    @property
    def current(self) -> tuple[str, int] | None:
        """The open file's final name and its size so far (None between files)."""
        return (self._name, self._size) if self._file is not None else None

    def write_group(self, records: list[Record]) -> list[StoredRecord]:
        """Compress `records` and append them with one write; rotate before, if due."""
        return self.write_prepared(prepare_group(records, self.gzip_level))

    def write_prepared(self, group: PreparedGroup) -> list[StoredRecord]:
        """Append a group `prepare_group` made, with one write; rotate before, if due."""
        if self._file is not None and self._size >= self.rotate_bytes:
            self.close()
        if self._file is None:
            self._open_next()
        assert self._file is not None
        records, members = group.records, group.members
        offset = self._size
        stored = []
        for record, member in zip(records, members, strict=True):
            rid = dict(record.fields).get("WARC-Record-ID", "")
            stored.append(
                StoredRecord(
                    filename=self._name,
                    offset=offset,
                    length=len(member),
                    record_type=record.record_type,
                    record_id=rid,
                    url=record.url,
                    timestamp=to_timestamp(record.date) if record.date else "",
                    status=record.status,
                    mime=record.mime,
                    payload_digest=record.payload_digest,
                )
            )
            offset += len(member)
        data = b"".join(members)
        self._file.write(data)
        self._file.flush()
        self._size += len(data)
        return stored

    def close(self) -> None:
        """Finish the current file: flush, fsync, rename from `.open`, tell `on_close`."""
        if self._file is None:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        final = self.directory / self._name
        os.replace(self.directory / (self._name + OPEN_SUFFIX), final)
        _fsync_dir(self.directory)
        self.files.append(final)
        self.on_close(final)

    def abandon(self) -> None:
        """Close the file without renaming it (what a kill leaves; for tests)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> WarcFileWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open_next(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = to_timestamp(self.clock())
        while True:
            self._serial += 1
            name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self._host}.warc.gz"
            if (self.directory / name).exists():
                continue
            try:
                self._file = open(self.directory / (name + OPEN_SUFFIX), "xb")  # noqa: SIM115
                break
            except FileExistsError:
                continue
        self._name = name
        self._size = 0
        self.on_open(name)
        info = dict(self.warcinfo)
        info.setdefault("software", f"Vellum/{__version__}")
        info.setdefault("format", "WARC File Format 1.1")
        info.setdefault(
            "conformsTo",
            "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        )
        block = "".join(f"{k}: {_one_line(v)}\r\n" for k, v in info.items()).encode()
        record = Record(
            "warcinfo",
            [
                ("WARC-Type", "warcinfo"),
                ("WARC-Record-ID", self.record_id()),
                ("WARC-Date", _warc_date(self.clock())),
                ("WARC-Filename", name),
                ("Content-Type", "application/warc-fields"),
            ],
            block,
        )
        data = compress_member(serialize(record), self.gzip_level)
        self._file.write(data)
        self._file.flush()
        self._size = len(data)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
