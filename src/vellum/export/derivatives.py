"""Derivative files that WASAPI jobs build from WARC files: a CDXJ index, WAT files.

`build_cdx` indexes the WARC files afresh (pywb's CDXJ, sorted in bounded memory) into
one `<job>.cdxj`. `build_wat` writes, for each WARC file, a `<name>.wat.gz`: one WARC
`metadata` record per record of the source, whose JSON payload is the WAT envelope of
the Internet Archive's format (`Envelope` → `WARC-Header-Metadata`, `Payload-Metadata`
→ HTTP status and headers, and for HTML the title and the links).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fastwarc.warc import ArchiveIterator, WarcRecord
from selectolax.lexbor import LexborHTMLParser
from warcio.warcwriter import WARCWriter

from vellum.index.indexer import index_warc
from vellum.index.segments import sorted_unique
from vellum.warc.encoding import decode_content

__all__ = ["build_cdx", "build_wat", "wat_name"]

_HTML_LIMIT = 5 << 20  # bytes of an HTML payload looked at for the title and links
_LINK_ATTRIBUTES = (
    ("a", "href"),
    ("link", "href"),
    ("img", "src"),
    ("script", "src"),
    ("iframe", "src"),
    ("form", "action"),
)


def build_cdx(warcs: Sequence[tuple[str, Path]], out: Path, spill_dir: Path) -> int:
    """Index `(name, path)` WARC files into one sorted CDXJ file; returns its lines."""

    def lines() -> Iterator[bytes]:
        for name, path in warcs:
            for capture in index_warc(path, filename=name):
                yield capture.to_line().encode()

    count = 0
    with open(out, "wb") as f:
        for line in sorted_unique(lines(), 250_000, spill_dir):
            f.write(line + b"\n")
            count += 1
    return count


def wat_name(warc_name: str) -> str:
    """`x.warc.gz` → `x.wat.gz`."""
    for ending in (".warc.gz", ".warc", ".arc.gz", ".arc"):
        if warc_name.endswith(ending):
            return warc_name[: -len(ending)] + ".wat.gz"
    return warc_name + ".wat.gz"


def build_wat(name: str, path: Path, out: Path) -> int:
    """Write the WAT file of one WARC file; returns the number of metadata records."""
    count = 0
    with open(path, "rb") as source, open(out, "wb") as target:
        writer = WARCWriter(target, gzip=True)
        for record in ArchiveIterator(source, parse_http=True, auto_decode="transfer"):
            envelope = _envelope(record, name)
            uri = record.headers.get("WARC-Target-URI") or name
            payload = json.dumps(envelope, ensure_ascii=False).encode()
            headers = {"WARC-Date": record.headers.get("WARC-Date") or ""}
            if record.record_id:
                headers["WARC-Refers-To"] = record.record_id
            metadata = writer.create_warc_record(
                uri.strip("<>"),
                "metadata",
                payload=io.BytesIO(payload),
                length=len(payload),
                warc_content_type="application/json",
                warc_headers_dict=headers,
            )
            writer.write_record(metadata)
            count += 1
    return count


def _envelope(record: WarcRecord, filename: str) -> dict[str, Any]:
    warc_headers = {name: value for name, value in record.headers.items()}
    payload: dict[str, Any] = {"Actual-Content-Length": str(record.content_length)}
    content_type = record.headers.get("Content-Type")
    if content_type:
        payload["Actual-Content-Type"] = content_type
    if record.is_http:
        http = record.http_headers
        headers = {name: value for name, value in http.astuples()}
        body = record.reader.read(_HTML_LIMIT)
        key = "HTTP-Response-Metadata" if http.status_code is not None else "HTTP-Request-Metadata"
        described: dict[str, Any] = {"Headers": headers}
        if http.status_code is not None:
            described["Response-Message"] = {
                "Version": (http.status_line or "").split(" ", 1)[0],
                "Status": str(http.status_code),
                "Reason": http.reason_phrase or "",
            }
            mime = (http.get("Content-Type") or "").split(";")[0].strip().lower()
            if mime in ("text/html", "application/xhtml+xml"):
                described["HTML-Metadata"] = _html_metadata(
                    decode_content(body, http.get("Content-Encoding"))
                )
        else:
            described["Request-Message"] = {"Method": (http.status_line or "").split(" ", 1)[0]}
        payload[key] = described
    return {
        "Container": {"Filename": filename, "Compressed": filename.endswith(".gz")},
        "Envelope": {
            "Format": "WARC",
            "WARC-Header-Metadata": warc_headers,
            "Payload-Metadata": payload,
        },
    }


def _html_metadata(body: bytes) -> dict[str, Any]:
    tree = LexborHTMLParser(body.decode("utf-8", "replace"))
    title_node = tree.css_first("title")
    head: dict[str, Any] = {}
    if title_node is not None:
        head["Title"] = title_node.text(strip=True)
    links = []
    for tag, attribute in _LINK_ATTRIBUTES:
        for node in tree.css(f"{tag}[{attribute}]"):
            value = node.attributes.get(attribute)
            if value:
                links.append({"path": f"{tag.upper()}@/{attribute}", "url": value})
    return {"Head": head, "Links": links}
