"""The portal's figures: counted once, counted again when the index or the rules change."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from starlette.testclient import TestClient

from tests.portal.conftest import PUBLIC_PAGES, SITE, when
from tests.replay_ui.archive import Page, make_collection, write_warc
from vellum.catalog import Catalog
from vellum.catalog.exclusions import Exclusions
from vellum.index.cdxj import Capture
from vellum.index.importer import Importer
from vellum.index.store import IndexStore, open_index
from vellum.replay.app import create_app
from vellum.settings import Settings
from vellum.web.stats import StatsCache, count_captures


def capture(url: str, ts: str, mime: str = "text/html", status: str = "200") -> Capture:
    key = url.replace("http://", "").rstrip("/")
    return Capture(key, ts, url, mime, status, "X", 1, 0, "a.warc.gz")


def test_count_captures_by_key() -> None:
    rows = sorted(
        [
            capture("http://a/", "20200101000000"),
            capture("http://a/", "20210101000000"),
            capture("http://a/", "20190101000000", status="404"),
            capture("http://b/", "20180101000000", mime="image/png"),
            capture("http://c/", "20220101000000", mime="application/xhtml+xml"),
        ],
        key=lambda c: (c.urlkey, c.timestamp),
    )
    figures = count_captures(rows, max_pages=1)
    assert (figures.captures, figures.urls, figures.pages) == (5, 3, 2)
    assert (figures.first, figures.last) == ("20180101000000", "20220101000000")
    (only,) = figures.some_pages  # one kept, as asked
    assert (only.url, only.latest, only.count) == ("http://a/", "20210101000000", 2)
    assert count_captures([]).captures == 0 and count_captures([]).first == ""


class CountingIndex:
    """Opens the real index and counts how often the cache reads it all."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reads = 0

    def __call__(self, slug: str) -> IndexStore:
        self.reads += 1
        return open_index(self.settings.index_dir(slug), self.settings.warc_dir(slug))


def test_cache_counts_again_only_when_the_index_changes(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings.catalog_path)
    make_collection(settings, catalog, "pub", PUBLIC_PAGES)
    index = CountingIndex(settings)
    cache = StatsCache(index, settings.index_dir)
    first = cache.stats("pub")
    assert first.captures == len(PUBLIC_PAGES)
    assert cache.stats("pub") == first and index.reads == 1  # nothing changed: no pass
    more = [Page(f"{SITE}new.html", when("20250505050505"), b"<html>new</html>")]
    warc = write_warc(tmp_path / "more.warc.gz", more)
    assert not Importer(settings, catalog, workers=1).run("pub", [warc]).failed
    second = cache.stats("pub")
    assert index.reads == 2
    assert second.captures == len(PUBLIC_PAGES) + 1
    assert second.last == "20250505050505" and second.first == first.first
    assert cache.stats("empty-and-unknown").captures == 0
    catalog.close()


def test_figures_follow_exclusions(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings.catalog_path)
    make_collection(settings, catalog, "pub", PUBLIC_PAGES)
    with TestClient(create_app(settings, catalog)) as client:
        before = client.get("/pub/").text
        assert f"{SITE}about.html" in before
        Exclusions(catalog).add("pub", "url", f"{SITE}about.html", "take-down request")
        after = client.get("/pub/").text
        assert f"{SITE}about.html" not in after  # nor in the page list
        home = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", client.get("/").text))
        assert (
            f"{len(PUBLIC_PAGES) - 1} captures of {len({p.url for p in PUBLIC_PAGES}) - 1} URLs"
            in home
        )
    catalog.close()


def wait_for(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.02)


def test_large_collections_are_counted_in_the_background(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings.catalog_path)
    make_collection(settings, catalog, "pub", PUBLIC_PAGES)
    index = CountingIndex(settings)
    # Every index counts as large, every count as slow: nothing is counted in a request.
    cache = StatsCache(index, settings.index_dir, sync_bytes=0, sync_seconds=-1)
    assert cache.stats("pub").counting
    wait_for(lambda: cache.stats("pub").captures == len(PUBLIC_PAGES))
    assert not cache.stats("pub").counting and index.reads == 1
    more = [Page(f"{SITE}new.html", when("20250505050505"), b"<html>new</html>")]
    warc = write_warc(tmp_path / "more.warc.gz", more)
    assert not Importer(settings, catalog, workers=1).run("pub", [warc]).failed
    # The last figures meanwhile, the new ones once counted.
    assert cache.stats("pub").captures in (len(PUBLIC_PAGES), len(PUBLIC_PAGES) + 1)
    wait_for(lambda: cache.stats("pub").captures == len(PUBLIC_PAGES) + 1)
    with TestClient(create_app(settings, catalog)) as client:
        assert "captures of" in client.get("/pub/").text  # small: counted in the request
    catalog.close()


def test_a_slow_count_rests_a_while_and_a_quick_one_does_not(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings.catalog_path)
    make_collection(settings, catalog, "pub", PUBLIC_PAGES)
    more = [Page(f"{SITE}new.html", when("20250505050505"), b"<html>new</html>")]
    warc = write_warc(tmp_path / "more.warc.gz", more)
    slow_index, quick_index = CountingIndex(settings), CountingIndex(settings)
    # Every count is slow for one cache, and its figures rest for a minute.
    slow = StatsCache(slow_index, settings.index_dir, slack=1e9, sync_bytes=0, sync_seconds=-1)
    quick = StatsCache(quick_index, settings.index_dir, slack=1e9)
    wait_for(lambda: slow.stats("pub").captures == len(PUBLIC_PAGES))
    assert quick.stats("pub").captures == len(PUBLIC_PAGES)
    assert not Importer(settings, catalog, workers=1).run("pub", [warc]).failed
    assert quick.stats("pub").captures == len(PUBLIC_PAGES) + 1 and quick_index.reads == 2
    assert slow.stats("pub").captures == len(PUBLIC_PAGES) and slow_index.reads == 1
    catalog.close()
