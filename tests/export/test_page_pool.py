"""Page lines made by workers reading each WARC once equal those read record by record."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.export.conftest import SITE, Resource, page, write_warc
from vellum.export import page_pool
from vellum.export.page_pool import PagePool
from vellum.export.pages import PageTasks, page_entry, parse_task
from vellum.index.indexer import index_warc

WHEN = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


def site(pages: int) -> list[Resource]:
    """HTML pages with titles (some not ASCII, one in UTF-16, one without a title),
    with images and a stylesheet between them."""
    out: list[Resource] = []
    for n in range(pages):
        out.append(Resource(f"{SITE}p/{n}.html", "text/html", page(f"Page {n}", f"Text {n}.")))
        if n % 10 == 0:
            out.append(Resource(f"{SITE}i/{n}.png", "image/png", bytes(range(256)) * (n + 1)))
    out.append(
        Resource(
            SITE + "latin.html",
            "text/html; charset=iso-8859-1",
            page("Caf\xe9 &amp; cr\xe8me", "D\xe9j\xe0 vu.").decode().encode("latin-1"),
        )
    )
    out.append(
        Resource(
            SITE + "wide.html",
            "text/html; charset=utf-16",
            page("Wide \u00e9t\u00e9", "UTF-16 text.").decode().encode("utf-16"),
        )
    )
    out.append(Resource(SITE + "bare.html", "text/html", b"<html><body>No title</body></html>"))
    out.append(Resource(SITE + "style.css", "text/css", b"p { margin: 0 }"))
    return out


def tasks_of(work: Path, warc: Path, name: str = "t.tasks") -> tuple[PageTasks, list[bytes]]:
    tasks = PageTasks(work / name)
    for capture in index_warc(warc):
        tasks.offer(capture, warc)
    lines = list(tasks.tasks())
    return tasks, lines


def by_record(lines: list[bytes], text: bool) -> list[dict[str, object]]:
    """The entries read one by one, the slow and simple way."""
    out = []
    for line in lines:
        warc, capture, url, timestamp = parse_task(line)
        out.append(json.loads(page_entry(capture, Path(warc), url, timestamp, text)))
    return out


def pooled(work: Path, tasks: PageTasks, text: bool, workers: int) -> list[dict[str, object]]:
    pool = PagePool(work, text, workers)
    try:
        pool.submit(tasks)
        size = pool.finish()
        chunks: list[bytes] = []
        pool.write(chunks.append)
    finally:
        pool.close()
    data = b"".join(chunks)
    assert len(data) == size
    entries = [json.loads(line) for line in data.splitlines()]
    assert len(entries) == pool.count
    return entries


@pytest.mark.parametrize("text", [True, False])
def test_workers_reading_each_file_once_agree_with_reading_by_record(
    tmp_path: Path, text: bool
) -> None:
    warc = write_warc(tmp_path / "many.warc.gz", WHEN, site(120))
    tasks, lines = tasks_of(tmp_path, warc)
    assert len(lines) == 123 >= page_pool.INLINE_TASKS  # the HTML pages, to workers
    expected = by_record(lines, text)
    got = pooled(tmp_path, tasks, text, workers=2)
    key = lambda e: (e["url"], e["ts"])  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)
    titles = {e["url"]: e.get("title") for e in got}
    assert titles[SITE + "latin.html"] == "Caf\xe9 & cr\xe8me"
    assert titles[SITE + "wide.html"] == "Wide \u00e9t\u00e9"
    assert titles[SITE + "bare.html"] is None and titles[SITE + "p/7.html"] == "Page 7"
    assert all(("text" in e) == text for e in got)
    if text:
        assert {e["url"]: e["text"] for e in got}[SITE + "p/7.html"] == "Page 7 Text 7."
    # in file order: the workers' lines come back as the file has them
    assert [e["url"] for e in got[:3]] == [SITE + "p/0.html", SITE + "p/1.html", SITE + "p/2.html"]


def test_groups_split_by_file_and_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two files, groups of at most 25 tasks, pages sparse enough to be read one by one
    in one file: the same lines as record by record, every page once."""
    monkeypatch.setattr(page_pool, "GROUP_TASKS", 25)
    one = write_warc(tmp_path / "one.warc.gz", WHEN, site(60))
    two = write_warc(tmp_path / "two.warc", WHEN, site(30), gzipped=False)
    tasks = PageTasks(tmp_path / "both.tasks")
    for warc in (one, two):
        for capture in index_warc(warc):
            tasks.offer(capture, warc)
    lines = list(tasks.tasks())
    monkeypatch.setattr(page_pool, "SPARSE_BYTES", 1)  # every group read record by record
    sparse = pooled(tmp_path, tasks, False, workers=2)
    monkeypatch.setattr(page_pool, "SPARSE_BYTES", 1 << 20)
    tasks = PageTasks(tmp_path / "again.tasks")
    for warc in (one, two):
        for capture in index_warc(warc):
            tasks.offer(capture, warc)
    streamed = pooled(tmp_path, tasks, False, workers=2)
    expected = by_record(lines, False)
    assert streamed == sparse  # same order: file by file, offset by offset
    key = lambda e: (e["url"], e["ts"], e["size"])  # noqa: E731
    assert sorted(streamed, key=key) == sorted(expected, key=key)
    assert len(streamed) == 63 + 33
    assert not list(tmp_path.glob("pages-*"))  # every group file removed


def test_a_record_that_cannot_be_read_is_still_listed(tmp_path: Path) -> None:
    """An index entry pointing inside a record (a damaged spot): the page is listed
    without a title, and the others around it are not lost."""
    warc = write_warc(tmp_path / "w.warc.gz", WHEN, site(5))
    captures = [c for c in index_warc(warc) if c.mime == "text/html"]
    tasks = PageTasks(tmp_path / "t.tasks")
    broken = captures[2]
    for capture in captures:
        if capture is broken:
            capture = dataclasses.replace(capture, offset=capture.offset + 7)
        tasks.offer(capture, warc)
    got = pooled(tmp_path, tasks, False, workers=1)
    titles = {e["url"]: e.get("title") for e in got}
    assert len(got) == len(captures)
    assert titles[broken.url] is None
    assert all(titles[c.url] for c in captures if c is not broken and c.url != SITE + "bare.html")


def test_few_tasks_are_done_without_workers(tmp_path: Path) -> None:
    warc = write_warc(tmp_path / "w.warc.gz", WHEN, site(3))
    tasks, lines = tasks_of(tmp_path, warc)
    pool = PagePool(tmp_path, True, workers=2)
    pool.submit(tasks)
    assert pool._pool is None  # fewer than INLINE_TASKS: no process started
    pool.finish()
    chunks: list[bytes] = []
    pool.write(chunks.append)
    got = [json.loads(line) for line in b"".join(chunks).splitlines()]
    assert got == by_record(lines, True)
