"""Fixtures for crawler tests: a collection, a crawler without delays, WARC readers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from vellum.capture.config import CrawlConfig, Politeness
from vellum.capture.crawler import Crawler, CrawlReport
from vellum.capture.http import Timeouts
from vellum.capture.scope import Seed
from vellum.catalog import Catalog
from vellum.settings import Settings

FAST = Politeness(delay=0.0, per_host=4, concurrency=8)


@pytest.fixture
def coll(catalog: Catalog) -> str:
    catalog.create_organization("Test Org", "TO")
    catalog.create_collection("coll", "TO", "Test", "")
    return "coll"


CrawlFn = Callable[..., CrawlReport]


@pytest.fixture
def crawl(settings: Settings, catalog: Catalog, coll: str) -> CrawlFn:
    """crawl(url_or_seeds, **config) -> report, with no politeness delays by default."""

    def run(seeds: str | list[Seed], **kw: Any) -> CrawlReport:
        if isinstance(seeds, str):
            seeds = [Seed(seeds)]
        kw.setdefault("politeness", FAST)
        kw.setdefault("timeouts", Timeouts(connect=5, read=5, total=10))
        config = CrawlConfig(seeds=tuple(seeds), **kw)
        return Crawler(settings, catalog).start(coll, config)

    return run


def records(settings: Settings, slug: str = "coll") -> list[Any]:
    """Every record of the collection's WARC files: (type, headers dict, http headers, body)."""
    out = []
    for path in sorted(settings.warc_dir(slug).glob("*.warc.gz")):
        with path.open("rb") as f:
            for r in ArchiveIterator(f):
                out.append(
                    (
                        r.rec_type,
                        dict(r.rec_headers.headers),
                        r.http_headers,
                        r.content_stream().read() if r.rec_type != "warcinfo" else b"",
                    )
                )
    return out


def stored_urls(settings: Settings, slug: str = "coll") -> list[str]:
    """Target URIs of response and revisit records."""
    return [
        h["WARC-Target-URI"]
        for t, h, _, _ in records(settings, slug)
        if t in ("response", "revisit")
    ]


def warcio_check(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "warcio"), "check", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
