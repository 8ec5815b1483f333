"""`vellum seed` and `vellum crawl-job` as a user runs them, test crawls saved and discarded."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from tests.test_cli import assert_one_line_error, run
from vellum.catalog import Catalog
from vellum.cli.main import cli
from vellum.index.store import open_index
from vellum.jobs.quarantine import quarantine_dir
from vellum.search.feed import open_search_index
from vellum.search.model import SearchRequest
from vellum.search.query import parse_query
from vellum.settings import Settings

from .site import PagesSite


def vellum(data: Path, *args: str) -> Result:
    """`vellum --data DATA ARGS` in this process (the subprocess runs are slower)."""
    return CliRunner().invoke(cli, ["--data", str(data), *args], env={"COLUMNS": "200"})


def _setup(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    assert vellum(data, "org", "create", "Partner Library", "--acronym", "PL").exit_code == 0
    made = vellum(data, "collection", "create", "news", "--org", "PL", "--title", "News")
    assert made.exit_code == 0
    return data


def test_seed_commands(tmp_path: Path) -> None:
    data = _setup(tmp_path)
    added = vellum(
        data, "seed", "add", "news", "https://example.org/", "--frequency", "weekly",
        "--scope", "domain", "--exclude", "https://example.org/tmp/", "--notes", "main",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert (
        "Added seed 1 to news: https://example.org/ (domain scope, weekly, next crawl"
        in added.stdout
    )
    seeds_file = tmp_path / "seeds.txt"
    seeds_file.write_text("https://a.example/\nnot a url\n\nhttps://example.org/\nb.example\n")
    imported = vellum(data, "seed", "import", "news", str(seeds_file))
    assert imported.exit_code == 1
    assert "Added 2 seed(s) to news" in imported.stdout
    assert f"{seeds_file}:2: malformed URL" in imported.stderr
    assert f"{seeds_file}:4: https://example.org/ is already a seed of news" in imported.stderr
    assert "2 line(s) of" in str(imported.exception)
    listing = vellum(data, "seed", "list", "news").stdout
    for url in ("https://example.org/", "https://a.example/", "http://b.example/"):
        assert url in listing
    assert "weekly" in listing and "main" in listing
    assert "paused" in vellum(data, "seed", "pause", "1").stdout
    assert "paused" in vellum(data, "seed", "list", "news").stdout
    resumed = vellum(data, "seed", "resume", "1")
    assert "is active" in resumed.stdout
    assert "monthly" in vellum(data, "seed", "set", "1", "--frequency", "monthly").stdout
    assert "Removed seed 2" in vellum(data, "seed", "remove", "2").stdout
    assert "a.example" not in vellum(data, "seed", "list", "news").stdout
    csv_file = tmp_path / "seeds.csv"
    csv_file.write_text("url,scope,frequency,notes\nhttps://c.example/,path,daily,ok\n,host,,\n")
    imported = vellum(data, "seed", "import", "news", str(csv_file))
    assert imported.exit_code == 1 and f"{csv_file}:3: a seed needs a URL" in imported.stderr


def test_seed_bad_input_is_one_line(tmp_path: Path) -> None:
    data = _setup(tmp_path)
    assert_one_line_error(run(data, "seed", "add", "news", "ftp://a.example/"), "malformed URL")
    assert_one_line_error(run(data, "crawl-job", "pause", "7"), "no crawl job 7")
    for args, needle in [
        (("seed", "add", "nope", "https://a.example/"), "no collection"),
        (("seed", "add", "news", "https://a.example/", "--include-re", "(["), "bad regular"),
        (("seed", "pause", "99"), "no seed 99"),
        (("seed", "import", "news", str(tmp_path / "none")), "cannot read"),
        (("seed", "import", "news", str(tmp_path / "bin.csv")), "not UTF-8"),
        (("crawl-job", "start", "news"), "no active seeds"),
    ]:
        (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00bad")
        result = vellum(data, *args)
        assert result.exit_code != 0 and needle in str(result.exception), (args, result.output)


def _captures(settings: Settings, slug: str) -> list[str]:
    store = open_index(settings.index_dir(slug), settings.warc_dir(slug))
    try:
        return [c.url for c in store.all()]
    finally:
        store.close()


def _hits(settings: Settings) -> int:
    index = open_search_index(settings)
    try:
        return index.search(SearchRequest(parse_query("archive test page"), None)).total
    finally:
        index.close()


def test_test_crawl_quarantined_then_saved_then_another_discarded(tmp_path: Path) -> None:
    data = _setup(tmp_path)
    settings = Settings(data_dir=data)
    with PagesSite(pages=8) as site:
        assert vellum(data, "seed", "add", "news", site.url).exit_code == 0
        started = vellum(data, "crawl-job", "start", "news", "--test", "--run")
        assert started.exit_code == 0, started.output
        assert "Queued test crawl job 1 of news (1 seed(s))" in started.stdout
        assert "Job 1 (test crawl of news): finished, crawl 1; " in started.stdout
        # in quarantine: not in the collection's files, index or search
        catalog = Catalog(settings.catalog_path)
        try:
            assert catalog.warc_files("news") == []
        finally:
            catalog.close()
        assert _captures(settings, "news") == []
        assert list((quarantine_dir(settings, 1)).rglob("*.warc.gz"))
        refused = vellum(data, "crawl-job", "discard", "9")
        assert refused.exit_code != 0
        saved = vellum(data, "crawl-job", "save", "1")
        assert saved.exit_code == 0, saved.output
        assert "Saved test job 1 into news: news-" in saved.stdout
        assert not quarantine_dir(settings, 1).exists()
        assert f"{site.url}p/7" in _captures(settings, "news")
        assert _hits(settings) >= 8
        catalog = Catalog(settings.catalog_path)
        try:
            files = catalog.warc_files("news")
            assert files and all(f.source == "crawl" for f in files)
            crawl = catalog.crawls("news")[0]
            assert crawl.id == 1
        finally:
            catalog.close()
        assert_one_line_error(run(data, "crawl-job", "save", "1"), "is saved: it cannot be saved")
        # a second test crawl, discarded
        second = vellum(data, "crawl-job", "start", "news", "--test", "--run")
        assert second.exit_code == 0, second.output
        assert quarantine_dir(settings, 2).exists()
        discarded = vellum(data, "crawl-job", "discard", "2")
        assert discarded.exit_code == 0 and "Discarded test job 2" in discarded.stdout
        assert not quarantine_dir(settings, 2).exists()
        assert "discarded" in vellum(data, "crawl-job", "list", "news").stdout
        assert len(_captures(settings, "news")) == len(set(_captures(settings, "news")))
