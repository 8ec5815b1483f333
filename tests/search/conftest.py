"""Fixtures of the search tests: WARC files written here with warcio, imported for real."""

from __future__ import annotations

import gc
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from vellum.catalog import Catalog
from vellum.index.importer import Importer
from vellum.search.feed import FeedStats, update_search_index
from vellum.settings import Settings


@dataclass(frozen=True)
class Page:
    """One response to archive: URL, capture time, body, Content-Type, status."""

    url: str
    when: str  # 14 digits
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    revisit_of: str | None = None  # write a revisit record with this payload digest


def write_warc(path: Path, pages: list[Page]) -> Path:
    """A gzipped WARC with one response (or revisit) record per page, written by warcio."""
    _write_warc(path, pages)
    gc.collect()  # warcio's digest buffers are closed by the GC: let it happen here
    return path


def _write_warc(path: Path, pages: list[Page]) -> None:
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for page in pages:
            date = datetime.strptime(page.when, "%Y%m%d%H%M%S").strftime("%Y-%m-%dT%H:%M:%SZ")
            headers = StatusAndHeaders(
                f"{page.status} OK",
                [("Content-Type", page.content_type), ("Content-Length", str(len(page.body)))],
                protocol="HTTP/1.1",
            )
            warc_headers = {"WARC-Date": date}
            if page.revisit_of is not None:
                record = writer.create_revisit_record(
                    page.url, page.revisit_of, page.url, date, http_headers=headers
                )
                record.rec_headers.replace_header("WARC-Date", date)
            else:
                record = writer.create_warc_record(
                    page.url,
                    "response",
                    payload=io.BytesIO(page.body),
                    length=len(page.body),
                    http_headers=headers,
                    warc_headers_dict=warc_headers,
                )
            writer.write_record(record)


def html(title: str, body: str, lang: str = "en", description: str = "") -> bytes:
    meta = f'<meta name="description" content="{description}">' if description else ""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        f"{meta}</head><body><nav><a href='/'>Home</a> <a href='/about'>About</a></nav>"
        f"<main><h1>{title}</h1><p>{body}</p></main></body></html>"
    ).encode()


Archive = Callable[[str, list[Page]], FeedStats]


@pytest.fixture
def org(catalog: Catalog) -> str:
    catalog.create_organization("Example Partner Foundation", "EPF")
    return "EPF"


@pytest.fixture
def archive(settings: Settings, catalog: Catalog, tmp_path: Path, org: str) -> Archive:
    """archive(slug, pages): write a WARC, import it into `slug` (made if new), index it."""
    counter = [0]

    def run(slug: str, pages: list[Page]) -> FeedStats:
        if slug not in {c.slug for c in catalog.collections()}:
            catalog.create_collection(slug, org, slug.title())
        counter[0] += 1
        path = write_warc(tmp_path / f"{slug}-{counter[0]}.warc.gz", pages)
        report = Importer(settings, catalog, workers=1).run(slug, [path])
        assert report.imported, report
        return update_search_index(settings, catalog, slug, workers=1)

    return run
