"""`vellum export --warc DIR` (verified copies + manifests) and `--cdxj FILE`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.export.conftest import FIRST_CRAWL, run
from tests.export.pywb_peer import pywb_bin, pywb_fetch
from vellum.catalog import Catalog
from vellum.errors import VellumError
from vellum.export.warc_copy import copy_warcs, write_cdxj
from vellum.index.indexer import index_warc
from vellum.settings import Settings

Web = tuple[Settings, Catalog, str]


def test_warc_copy_with_manifests(web: Web, tmp_path: Path) -> None:
    settings, catalog, slug = web
    out = run(settings.data_dir, "export", slug, "--warc", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    size = sum(w.size for w in catalog.warc_files(slug))
    assert out.stdout.strip() == (
        f"Copied 2 WARC file(s) to {tmp_path / 'out'} (0 already there, {size:,} bytes in "
        "all); checksums in manifest-sha1.txt and manifest-md5.txt"
    )
    for tool, manifest in (("sha1sum", "manifest-sha1.txt"), ("md5sum", "manifest-md5.txt")):
        check = subprocess.run(
            [tool, "-c", manifest], cwd=tmp_path / "out", capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.count(": OK") == 2
    # run again: nothing copied twice
    report = copy_warcs(settings, catalog, slug, tmp_path / "out")
    assert report.copied == [] and len(report.unchanged) == 2
    # one crawl's files only
    report = copy_warcs(settings, catalog, slug, tmp_path / "two", crawl=2)
    assert report.copied == ["crawl-two.warc.gz"]
    assert (tmp_path / "two" / "manifest-sha1.txt").read_text().endswith("  crawl-two.warc.gz\n")


def test_a_changed_warc_is_not_exported(web: Web, tmp_path: Path) -> None:
    settings, catalog, slug = web
    stored = settings.warc_dir(slug) / "crawl-two.warc.gz"
    data = bytearray(stored.read_bytes())
    data[50] ^= 1
    stored.write_bytes(bytes(data))
    with pytest.raises(VellumError, match=r"crawl-two\.warc\.gz no longer matches the checksums"):
        copy_warcs(settings, catalog, slug, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["crawl-one.warc.gz"]


def test_cdxj_export(web: Web, tmp_path: Path) -> None:
    settings, catalog, slug = web
    out = run(settings.data_dir, "export", slug, "--cdxj", str(tmp_path / "web.cdxj"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"Wrote 7 index lines to {tmp_path / 'web.cdxj'}"
    expected = sorted(
        c.to_line().encode()
        for w in catalog.warc_files(slug)
        for c in index_warc(settings.warc_dir(slug) / w.filename)
    )
    assert (tmp_path / "web.cdxj").read_bytes().splitlines() == expected
    assert write_cdxj(settings, catalog, slug, tmp_path / "one.cdxj", crawl=1) == 5
    bad = run(settings.data_dir, "export", slug, "--cdxj", str(tmp_path / "x"), "--from", "2015")
    assert bad.returncode == 2
    assert "--from, --to, --url-prefix, --sign and --no-text go with --wacz" in bad.stderr


@pytest.mark.slow
def test_pywb_replays_exported_warcs_and_cdxj(web: Web, tmp_path: Path) -> None:
    """pywb 2.10 serves a page from the exported WARCs + CDXJ as they are."""
    settings, catalog, slug = web
    bin_dir = pywb_bin()
    root = tmp_path / "pywb"
    coll = root / "collections" / "web"
    copy_warcs(settings, catalog, slug, coll / "archive")
    (coll / "indexes").mkdir(parents=True)
    write_cdxj(settings, catalog, slug, coll / "indexes" / "index.cdxj")
    for manifest in ("manifest-sha1.txt", "manifest-md5.txt"):
        (coll / "archive" / manifest).unlink()
    body = pywb_fetch(
        bin_dir, root, "/web/20151229231410id_/http://example.test/partners/aimf.html"
    )
    assert body == FIRST_CRAWL[1].body
    # the 2020 revisit resolves to the 2015 payload in pywb too
    body = pywb_fetch(bin_dir, root, "/web/20200601080000id_/http://example.test/")
    assert body == FIRST_CRAWL[0].body
    shutil.rmtree(root)
