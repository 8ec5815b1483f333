"""`vellum crawl` options, `vellum crawl report`, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.crawl.server import Reply, Site, html


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vellum", "--data", str(data), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and text in lines[0], result.stderr


def test_crawl_options_and_report(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "org", "create", "A", "--acronym", "A")
    run(data, "collection", "create", "c", "--org", "A", "--title", "C")
    routes = {
        "/": html(
            '<a href="a.html">a</a><a href="skip/b.html">b</a><a href="http://10.9.9.9/">x</a>'
        ),
        "/a.html": html('<img src="i.png"><a href="/">home</a>'),
        "/skip/b.html": html("<p>b</p>"),
        "/i.png": Reply(b"PNG", "image/png"),
        "/robots.txt": Reply(b"User-agent: *\nDisallow: /nothing/\n", "text/plain"),
    }
    with Site(routes) as site:
        result = run(
            data, "crawl", "c", site.url, "--exclude", site.url + "skip/", "--max-hops", "3",
            "--no-sitemaps", "--concurrency", "4",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert site.count("/skip/b.html") == 0
    assert "Crawl 1 finished: 4 URLs stored" in result.stdout
    report = run(data, "crawl", "report", "1", "--json")
    assert report.returncode == 0, report.stderr
    doc = json.loads(report.stdout)
    assert doc["crawl"] == 1 and doc["status"] == "finished" and doc["collection"] == "c"
    assert doc["stored"] == 4 and doc["by_status"] == {"200": 4}
    assert doc["by_mime"]["text/html"] == 2 and doc["by_mime"]["image/png"] == 1
    assert doc["by_host"][f"127.0.0.1:{site.port}"][0] == 4
    assert doc["scope_reasons"] == {"excluded by rule": 1, "out of scope": 1}
    assert doc["new"] == 4 and doc["duplicate"] == 0
    table = run(data, "crawl", "report", "1")
    assert table.returncode == 0
    for heading in ("Crawl report", "By HTTP status", "By MIME type", "By host", "Out-of-scope"):
        assert heading in table.stdout
    help_ = run(data, "crawl", "--help")
    assert help_.returncode == 0 and "report" in help_.stdout


def test_crawl_errors_are_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "org", "create", "A", "--acronym", "A")
    run(data, "collection", "create", "c", "--org", "A", "--title", "C")
    one_line_error(run(data, "crawl", "report", "7"), "no crawl 7")
    one_line_error(run(data, "crawl", "--resume", "c"), "no unfinished crawl")
    one_line_error(run(data, "crawl", "c"), "give at least one seed URL")
    one_line_error(
        run(data, "crawl", "c", "http://127.0.0.1:1/", "--include-re", "("),
        "bad regular expression",
    )
    one_line_error(run(data, "crawl", "c", "http://127.0.0.1:1/", "--scope", "moon"), "--scope")
    one_line_error(
        run(data, "crawl", "--resume", "c", "http://127.0.0.1:1/"), "--resume takes only"
    )
    assert run(data, "collection", "list").returncode == 0  # nothing broken
