"""Crash safety: `kill -9` of a real crawl process at several points, then resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.crawl.conftest import records, warcio_check
from tests.crawl.server import Site, html
from tests.crawl.test_dedup_and_warc import peer_index
from vellum.capture.recovery import members
from vellum.catalog import Catalog
from vellum.index.store import open_index
from vellum.settings import Settings

PAGES = 240


def slow_page(i: int):  # type: ignore[no-untyped-def]
    links = "".join(f'<a href="/p{(i * 7 + k) % PAGES}.html">{k}</a>' for k in range(1, 6))
    reply = html(f"<h1>{i}</h1>{links}<p>{'text ' * 300}</p>")

    def handler(sock, _headers):  # type: ignore[no-untyped-def]
        time.sleep(0.004)
        sock.sendall(reply.encode())
        return True

    return handler


def vellum(data: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vellum", "--data", str(data), "crawl", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_after(proc: subprocess.Popen[str], site: Site, requests: int) -> int:
    """SIGKILL the crawl once the server has answered `requests` more requests."""
    target = len(site.log) + requests
    deadline = time.monotonic() + 60
    while len(site.log) < target and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, "the crawl ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    return len(site.log)


def complete_urls(warc_dir: Path) -> set[str]:
    """URLs whose group (response, request, metadata) is complete on disk right now."""
    done = set()
    for path in warc_dir.iterdir():
        response = None
        for m in members(path):
            if m.record_type in ("response", "revisit"):
                response = m.fields["warc-target-uri"]
            elif m.record_type == "metadata" and response:
                done.add(response)
                response = None
    return done


def tear_tail(warc_dir: Path) -> int:
    """Append half of a copy of the last group: what a kill inside write() leaves."""
    (path,) = list(warc_dir.glob("*.open"))
    last = list(members(path))[-3:]
    data = path.read_bytes()[last[0].offset : last[-1].end]
    with path.open("ab") as f:
        f.write(data[: len(data) // 2])
    return len(data) // 2


@pytest.mark.slow
def test_kill_9_at_several_points_then_resume(settings: Settings, catalog: Catalog) -> None:
    catalog.create_organization("Test Org", "TO")
    catalog.create_collection("coll", "TO", "Test", "")
    data, warc_dir = settings.data_dir, settings.warc_dir("coll")
    routes = {f"/p{i}.html": slow_page(i) for i in range(PAGES)}
    with Site(routes) as site:  # type: ignore[arg-type]
        seed = site.url + "p0.html"
        args = ["coll", seed, "--delay", "0", "--host-concurrency", "4", "--no-sitemaps"]
        proc = vellum(data, *args)
        checks: list[tuple[int, set[str]]] = []
        for i, after in enumerate((15, 60, 50)):
            at = kill_after(proc, site, after)
            checks.append((at, complete_urls(warc_dir)))
            assert checks[-1][1], "the kill came before anything was stored"
            if i == 1:
                tear_tail(warc_dir)
            # the same command again resumes (first time), then --resume
            proc = vellum(data, *args) if i == 0 else vellum(data, "--resume", "coll")
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        for at, done in checks:
            again = {site.url.rstrip("/") + p for p in site.log[at:]}
            assert not (again & done), sorted(again & done)[:5]
        assert "finished" in out
    # Everything fetched once in the end, every record intact and indexed.
    stored = [
        h["WARC-Target-URI"] for t, h, _, _ in records(settings) if t in ("response", "revisit")
    ]
    pages = [u for u in stored if u.endswith(".html")]
    assert len(pages) == len(set(pages)) == PAGES
    warcs = sorted(warc_dir.glob("*.warc.gz"))
    assert not list(warc_dir.glob("*.open"))
    check = warcio_check(warcs)
    assert check.returncode == 0, check.stdout
    index = open_index(settings.index_dir("coll"), warc_dir)
    ours = sorted(c.to_line() for c in index.all())
    index.close()
    assert ours == peer_index(warcs)
    crawls = catalog.crawls("coll")
    assert len(crawls) == 1 and crawls[0].status == "finished"
    assert {w.filename for w in catalog.warc_files("coll")} == {p.name for p in warcs}
