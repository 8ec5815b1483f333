"""Write WARC/1.1 files, one gzip member per record, with warcio."""

from __future__ import annotations

import io
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from vellum import __version__
from vellum.clock import Clock, system_clock
from vellum.urls.timestamps import to_timestamp, warc_date
from vellum.warc.exchange import HttpExchange

IdFactory = Callable[[], str]
ROTATE_BYTES = 1_000_000_000  # about 1 GB per file, as Annex C and Heritrix do


def uuid_record_id() -> str:
    """A fresh `<urn:uuid:…>` WARC-Record-ID."""
    return f"<urn:uuid:{uuid.uuid4()}>"


@dataclass(frozen=True)
class StoredRecord:
    """Where one record landed, and what an index needs to know about it."""

    filename: str
    offset: int
    length: int  # compressed size of the gzip member
    record_type: str
    url: str
    timestamp: str  # 14 digits
    status: int | None
    mime: str
    payload_digest: str  # "sha1:BASE32"


class WarcFileWriter:
    """Appends records to rotating `.warc.gz` files in one directory.

    Each record is compressed into its own member in memory and written with a single
    write, and a request is written together with its response, so that an interrupted
    process leaves only whole records behind.
    """

    def __init__(
        self,
        directory: Path,
        prefix: str,
        warcinfo: dict[str, str],
        clock: Clock = system_clock,
        record_id: IdFactory = uuid_record_id,
        rotate_bytes: int = ROTATE_BYTES,
    ) -> None:
        self._dir = directory
        self._prefix = prefix
        self._warcinfo = warcinfo
        self._clock = clock
        self._record_id = record_id
        self._rotate_bytes = rotate_bytes
        self._file: BinaryIO | None = None
        self._filename = ""
        self._serial = 0
        self.files: list[Path] = []

    def write_exchange(self, exchange: HttpExchange) -> StoredRecord:
        """Store a request and its response; return where the response went."""
        out = self._current_file()
        request_id, response_id = self._record_id(), self._record_id()
        date = warc_date(exchange.date)
        request, _ = self._member(
            exchange.url,
            "request",
            exchange.request_body,
            StatusAndHeaders(
                f"{exchange.method} {exchange.request_target} HTTP/1.1",
                list(exchange.request_headers),
                is_http_request=True,
            ),
            {
                "WARC-Record-ID": request_id,
                "WARC-Date": date,
                "WARC-IP-Address": exchange.ip_address,
                "WARC-Concurrent-To": response_id,
            },
        )
        response_fields = {
            "WARC-Record-ID": response_id,
            "WARC-Date": date,
            "WARC-IP-Address": exchange.ip_address,
            "WARC-Concurrent-To": request_id,
        }
        if exchange.truncated:
            response_fields["WARC-Truncated"] = exchange.truncated
        response, digest = self._member(
            exchange.url,
            "response",
            exchange.body,
            StatusAndHeaders(
                f"{exchange.status} {exchange.reason}".rstrip(),
                list(exchange.response_headers),
                protocol=exchange.protocol,
            ),
            response_fields,
        )
        offset = out.tell()
        out.write(response + request)
        out.flush()
        return StoredRecord(
            filename=self._filename,
            offset=offset,
            length=len(response),
            record_type="response",
            url=exchange.url,
            timestamp=to_timestamp(exchange.date),
            status=exchange.status,
            mime=exchange.mime,
            payload_digest=digest,
        )

    def close(self) -> None:
        """Finish the current file (flushed and synced to disk)."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def __enter__(self) -> WarcFileWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _current_file(self) -> BinaryIO:
        if self._file is not None and self._file.tell() >= self._rotate_bytes:
            self.close()
        if self._file is None:
            self._open_next()
        assert self._file is not None
        return self._file

    def _open_next(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        stamp = to_timestamp(self._clock())
        host = socket.gethostname().split(".")[0] or "localhost"
        while True:
            self._serial += 1
            name = f"{self._prefix}-{stamp}-{self._serial:05d}-{host}.warc.gz"
            path = self._dir / name
            try:
                self._file = open(path, "xb")  # noqa: SIM115 - owned by this writer until close()
                break
            except FileExistsError:
                continue
        self._filename = name
        self.files.append(path)
        info = dict(self._warcinfo)
        info.setdefault("software", f"Vellum/{__version__}")
        info.setdefault("format", "WARC File Format 1.1")
        info.setdefault(
            "conformsTo",
            "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        )
        buf = io.BytesIO()
        writer = WARCWriter(buf, gzip=True, warc_version="1.1")
        record = writer.create_warcinfo_record(name, info)
        record.rec_headers.replace_header("WARC-Record-ID", self._record_id())
        record.rec_headers.replace_header("WARC-Date", warc_date(self._clock()))
        writer.write_record(record)
        self._file.write(buf.getvalue())
        self._file.flush()

    def _member(
        self,
        url: str,
        record_type: str,
        payload: bytes,
        http_headers: StatusAndHeaders,
        fields: dict[str, str],
    ) -> tuple[bytes, str]:
        buf = io.BytesIO()
        writer = WARCWriter(buf, gzip=True, warc_version="1.1")
        record = writer.create_warc_record(
            url,
            record_type,
            payload=io.BytesIO(payload),
            length=len(payload),
            http_headers=http_headers,
            warc_headers_dict=fields,
        )
        writer.write_record(record)
        digest = record.rec_headers.get_header("WARC-Payload-Digest") or ""
        return buf.getvalue(), digest
