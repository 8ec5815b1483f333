"""Build small collections from hand-made captures: WARCs written with warcio, imported."""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from vellum.catalog import Catalog
from vellum.errors import NotFound
from vellum.index.importer import Importer
from vellum.settings import Settings


@dataclass(frozen=True)
class Page:
    """One archived HTTP response."""

    url: str
    when: datetime
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: str = "200 OK"
    headers: list[tuple[str, str]] = field(default_factory=list)
    revisit_of: datetime | None = None  # written as a revisit of the capture at that time


def write_warc(path: Path, pages: list[Page]) -> Path:
    """A gzipped WARC holding one response record per page."""
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for page in pages:
            headers = [("Content-Type", page.content_type), *page.headers]
            headers.append(("Content-Length", str(len(page.body))))
            http = StatusAndHeaders(page.status, headers, protocol="HTTP/1.1")
            if page.revisit_of is not None:
                digest = "sha1:" + base64.b32encode(hashlib.sha1(page.body).digest()).decode()
                record = writer.create_revisit_record(
                    page.url,
                    digest,
                    page.url,
                    page.revisit_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    http_headers=http,
                )
                record.rec_headers.replace_header(
                    "WARC-Date", page.when.strftime("%Y-%m-%dT%H:%M:%SZ")
                )
                writer.write_record(record)
                continue
            record = writer.create_warc_record(
                page.url,
                "response",
                payload=io.BytesIO(page.body),
                length=len(page.body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": page.when.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)
    return path


def make_collection(
    settings: Settings,
    catalog: Catalog,
    slug: str,
    pages: list[Page],
    organization: str = "Example Organization",
    acronym: str = "EXO",
    title: str = "Example",
    public: bool = True,
) -> None:
    """Create the organization (once) and collection `slug` holding `pages`."""
    try:
        catalog.find_organization(acronym)
    except NotFound:
        catalog.create_organization(organization, acronym)
    catalog.create_collection(slug, acronym, title, public=public)
    staging = settings.data_dir.parent / f"staging-{slug}"
    staging.mkdir(parents=True, exist_ok=True)
    warc = write_warc(staging / f"{slug}.warc.gz", pages)
    report = Importer(settings, catalog, workers=1).run(slug, [warc])
    assert not report.failed, report
