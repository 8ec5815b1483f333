"""Turn the records of a WARC file into index entries."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

from fastwarc.warc import WarcRecord, WarcRecordType

from vellum.index.cdxj import Capture, make_capture
from vellum.warc.exchange import media_type
from vellum.warc.reader import iter_positions

_INDEXED = int(WarcRecordType.response) | int(WarcRecordType.resource) | int(WarcRecordType.revisit)


def index_warc(path: Path) -> Iterator[Capture]:
    """Captures for the response, resource and revisit records of one WARC file."""
    for pos in iter_positions(path):
        record = pos.record
        if not int(record.record_type) & _INDEXED:
            continue
        content_type = record.headers.get("Content-Type") or ""
        if (
            record.record_type == WarcRecordType.resource
            and content_type == "application/warc-fields"
        ):
            continue
        url = (record.headers.get("WARC-Target-URI") or "").strip("<>")
        status: int | None = None
        if record.record_type == WarcRecordType.resource:
            mime = media_type(content_type)
        else:
            record.parse_http()
            status = record.http_headers.status_code if record.is_http else None
            if record.record_type == WarcRecordType.revisit:
                mime = "warc/revisit"
            else:
                mime = media_type(record.http_headers.get("Content-Type"))
        yield make_capture(
            url=url,
            timestamp=record.record_date.strftime("%Y%m%d%H%M%S"),
            mime=mime,
            status=status,
            payload_digest=record.headers.get("WARC-Payload-Digest") or _sha1_of(record),
            length=pos.length,
            offset=pos.offset,
            filename=path.name,
        )


def _sha1_of(record: WarcRecord) -> str:
    """A payload digest for a record that carries none (as warcio computes it)."""
    digest = hashlib.sha1()
    while chunk := record.reader.read(1 << 16):
        digest.update(chunk)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")
