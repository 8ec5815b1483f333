"""CDXJ lines: pywb's flavour, equal to cdxj-indexer's, kept sorted and in step with WARCs."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cdxj_indexer.main import write_cdx_index

from vellum.capture.crawler import Crawler
from vellum.catalog import Catalog
from vellum.clock import Clock
from vellum.demo.site_server import DemoSite
from vellum.index.cdxj import Capture
from vellum.index.indexer import index_warc
from vellum.index.segments import read_manifest
from vellum.index.store import open_index
from vellum.settings import Settings

# cdxj-indexer (the peer) leaves its SpooledTemporaryFile sort buffers for the GC to close.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def peer_lines(warc: Path) -> list[str]:
    """cdxj-indexer's lines for one WARC's response, revisit and resource records.

    The one deliberate difference: digests in pywb's form, without `sha1:`.
    """
    out = io.StringIO()
    write_cdx_index(out, [str(warc)], {"sort": True, "records": "response,revisit,resource"})
    lines = []
    for line in out.getvalue().splitlines():
        key, ts, blob = line.split(" ", 2)
        data = json.loads(blob)
        if data.get("digest", "").startswith("sha1:"):
            data["digest"] = data["digest"][5:]
        lines.append(f"{key} {ts} {json.dumps(data)}")
    return lines


def segment_of(index_dir: Path) -> Path:
    """The one sorted segment of an index that holds one WARC file."""
    manifest = read_manifest(index_dir)
    assert manifest is not None
    (run,) = manifest.runs
    return index_dir / f"{run.name}.cdxj"


@pytest.fixture
def crawled(
    settings: Settings,
    catalog: Catalog,
    unesco: str,
    demo_site: DemoSite,
    clock: Clock,
    record_ids: Callable[[], str],
) -> Path:
    report = Crawler(settings, catalog, clock=clock, record_id=record_ids).crawl(
        unesco, [demo_site.url], 2
    )
    return settings.warc_dir(unesco) / report.warc_files[0]


def test_index_equals_cdxj_indexer(settings: Settings, unesco: str, crawled: Path) -> None:
    index = open_index(settings.index_dir(unesco), settings.warc_dir(unesco))
    ours = [c.to_line() for c in index.all()]
    assert ours == peer_lines(crawled)
    assert ours == sorted(ours, key=lambda s: s.encode())
    assert segment_of(settings.index_dir(unesco)).read_text().splitlines() == ours


def test_cdxj_line_shape(settings: Settings, unesco: str, crawled: Path) -> None:
    index = open_index(settings.index_dir(unesco), settings.warc_dir(unesco))
    line = next(c for c in index.all() if c.url.endswith("/partners/aimf.html")).to_line()
    key, ts, blob = line.split(" ", 2)
    assert key.startswith("1,0,0,127)/partners/aimf.html") or key.endswith("/partners/aimf.html")
    assert ts == "20151229231410"
    data = json.loads(blob)
    assert list(data) == ["url", "mime", "status", "digest", "length", "offset", "filename"]
    assert all(isinstance(v, str) for v in data.values())
    assert data["mime"] == "text/html" and data["status"] == "200"
    assert not data["digest"].startswith("sha1:") and len(data["digest"]) == 32
    assert Capture.from_line(line).to_line() == line


@pytest.mark.parametrize(
    "name",
    [
        "warcio/example.warc.gz",
        "warcio/example.warc",
        "pywb/iana.warc.gz",
        "pywb/example-wget-1-14.warc.gz",
        "webarchive-commons/IAH-urls-wget.warc.gz",
        "cdxj-indexer/cc.warc.gz",
    ],
)
def test_indexer_matches_peer_on_foreign_warcs(fixtures_dir: Path, name: str) -> None:
    warc = fixtures_dir / name
    ours = sorted((c.to_line() for c in index_warc(warc)), key=lambda s: s.encode())
    assert ours == peer_lines(warc)


def test_recover_rebuilds_lost_segments(settings: Settings, unesco: str, crawled: Path) -> None:
    index_dir = settings.index_dir(unesco)
    segment = segment_of(index_dir)
    before = segment.read_text()
    segment.unlink()
    (index_dir / (crawled.name + ".cdxj.open")).write_text("half a line")
    index = open_index(index_dir, settings.warc_dir(unesco))
    assert index.recover() == [crawled.name]
    assert segment_of(index_dir).read_text() == before
    assert not list(index_dir.glob("*.open"))
