"""`vellum search`, `vellum search reindex`, and the index kept up to date by crawl and import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.search.conftest import Page, html, write_warc
from vellum.demo.site_server import DemoSite

VELLUM = [sys.executable, "-m", "vellum"]


def run(data: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VELLUM, "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def one_line_error(result: subprocess.CompletedProcess[str], needle: str, code: int) -> None:
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], result.stderr


@pytest.fixture
def data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    assert (
        run(data, "org", "create", "Example Partner Foundation", "--acronym", "EPF").returncode == 0
    )
    assert (
        run(data, "collection", "create", "epf", "--org", "EPF", "--title", "EPF").returncode == 0
    )
    made = run(data, "collection", "create", "closed", "--org", "EPF", "--title", "C", "--private")
    assert made.returncode == 0
    return data


def test_import_indexes_and_search_prints_a_table(data: Path, tmp_path: Path) -> None:
    warc = write_warc(
        tmp_path / "a.warc.gz",
        [
            Page("http://x.org/h", "20150101000000", html("Heritage report", "mayors of cities")),
            Page("http://x.org/o", "20160101000000", html("Other", "mayors once")),
        ],
    )
    imported = run(data, "import", "epf", str(warc))
    assert imported.returncode == 0, imported.stderr
    assert "Search index: 2 documents from 2 records in 1 WARC file" in imported.stdout
    private = write_warc(
        tmp_path / "p.warc.gz",
        [Page("http://p.org/", "20170101000000", html("Mayors private", "x"))],
    )
    assert run(data, "import", "closed", str(private)).returncode == 0

    found = run(data, "search", "mayors")
    assert found.returncode == 0, found.stderr
    assert "http://x.org/h" in found.stdout and "Heritage report" in found.stdout
    assert "http://p.org/" in found.stdout  # the operator sees private collections
    assert "3 results for 'mayors'; page 1 of 1" in found.stdout

    only = json.loads(run(data, "search", "mayors", "--collection", "epf", "--json").stdout)
    assert only["total"] == 2 and {h["collection"] for h in only["hits"]} == {"epf"}
    assert only["hits"][0]["replay"].startswith("/epf/")
    paged = json.loads(
        run(
            data, "search", "--per-page", "1", "--page", "2", "--sort", "oldest", "mayors", "--json"
        ).stdout
    )
    assert [h["url"] for h in paged["hits"]] == ["http://x.org/o"]
    assert "No results for 'nothinglikethis'" in run(data, "search", "nothinglikethis").stdout


def test_reindex_and_errors(data: Path, tmp_path: Path) -> None:
    warc = write_warc(
        tmp_path / "a.warc.gz", [Page("http://x.org/", "20150101000000", html("T", "words"))]
    )
    assert run(data, "import", "epf", str(warc)).returncode == 0
    rebuilt = run(data, "search", "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Search index: 1 documents from 1 records in 1 WARC file" in rebuilt.stdout
    assert run(data, "search", "reindex", "epf").returncode == 0
    assert json.loads(run(data, "search", "words", "--json").stdout)["total"] == 1
    one_line_error(run(data, "search", '"unbalanced'), "unbalanced quote at column 1", 2)
    one_line_error(run(data, "search", "a", "OR"), "the query ends after 'OR'", 2)
    one_line_error(run(data, "search", "reindex", "nosuch"), "no collection 'nosuch'", 1)
    one_line_error(run(data, "search", "x", "--collection", "nosuch"), "no collection 'nosuch'", 1)
    one_line_error(run(data, "search", " "), "empty query", 2)
    assert "reindex" in run(data, "search", "--help").stdout


def test_reindex_turns_fast_phrases_on_and_off(data: Path, tmp_path: Path) -> None:
    body = "Le conseil de la ville de la région. " * 3
    warc = write_warc(
        tmp_path / "a.warc.gz", [Page("http://x.org/", "20150101000000", html("T", body, "fr"))]
    )
    assert run(data, "import", "epf", str(warc)).returncode == 0
    index = data / "search" / "index"
    on = run(data, "search", "reindex", "--fast-phrases")
    assert on.returncode == 0, on.stderr
    assert "Fast phrases: on" in on.stdout and (index / "COMMON_WORDS").exists()
    assert json.loads(run(data, "search", '"de la ville"', "--json").stdout)["total"] == 1
    assert run(data, "search", "reindex").returncode == 0  # keeps the choice
    assert (index / "COMMON_WORDS").exists()
    off = run(data, "search", "reindex", "--no-fast-phrases")
    assert "Fast phrases: off" in off.stdout and not (index / "COMMON_WORDS").exists()
    assert json.loads(run(data, "search", '"de la ville"', "--json").stdout)["total"] == 1
    one_line_error(run(data, "search", "reindex", "epf", "--fast-phrases"), "leave out SLUG", 2)


@pytest.mark.slow
def test_second_crawl_updates_the_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "org", "create", "UNESCO", "--acronym", "UNESCO")
    run(data, "collection", "create", "unesco", "--org", "UNESCO", "--title", "UNESCO")
    with DemoSite() as site:
        args = [
            "crawl",
            "unesco",
            site.url + "partners/aimf.html",
            "--scope",
            "page",
            "--allow-private",
        ]
        first = run(data, *args)
        assert first.returncode == 0, first.stderr
        assert "Search index:" in first.stdout
        hits = json.loads(run(data, "search", '"maires francophones"', "--json").stdout)["hits"]
        assert hits[0]["url"].endswith("/partners/aimf.html")
        assert len(hits[0]["timestamps"]) == 1
        second = run(data, *args)
        assert second.returncode == 0, second.stderr
    hits = json.loads(run(data, "search", '"maires francophones"', "--json").stdout)["hits"]
    aimf = [h for h in hits if h["url"].endswith("/partners/aimf.html")]
    assert len(aimf) == 1  # one document, both captures (the second is a revisit or a copy)
    assert len(aimf[0]["timestamps"]) == 2
