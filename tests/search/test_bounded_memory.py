"""Indexing holds a bounded number of documents, whatever the size of a WARC file."""

from __future__ import annotations

import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from tests.search.conftest import Page, html, write_warc
from vellum.catalog import Catalog
from vellum.index.importer import Importer
from vellum.search.feed import open_search_index, search_dir, update_search_index
from vellum.search.model import SearchDoc, SearchRequest
from vellum.search.payloads import Batching, batches_of_file, documents_of_file
from vellum.search.query import parse_query
from vellum.search.tantivy_index import TantivySearchIndex
from vellum.settings import Settings


def pages(count: int, words: int = 40, prefix: str = "p") -> list[Page]:
    return [
        Page(
            f"http://site{i % 7}.example.org/{prefix}/{i}",
            f"2020{i % 12 + 1:02d}01000000",
            html(f"Page {prefix}{i}", " ".join(f"w{i}x{j}" for j in range(words))),
        )
        for i in range(count)
    ]


def total_hits(settings: Settings, text: str) -> int:
    index = open_search_index(settings)
    try:
        return index.search(SearchRequest(parse_query(text), None)).total
    finally:
        index.close()


def imported(settings: Settings, catalog: Catalog, path: Path) -> None:
    if "big" not in {c.slug for c in catalog.collections()}:
        catalog.create_organization("Example Partner Foundation", "EPF")
        catalog.create_collection("big", "EPF", "Big")
    assert Importer(settings, catalog, workers=1).run("big", [path]).imported


def test_batches_are_bounded_and_add_up(tmp_path: Path) -> None:
    first = pages(120)
    digest = "sha1:" + "A" * 32
    revisits = [
        Page(f"http://r.org/{i}", "20210101000000", b"", revisit_of=digest) for i in range(9)
    ]
    path = write_warc(tmp_path / "a.warc.gz", first + revisits)
    batches = list(batches_of_file("c", "a.warc.gz", path, batching=Batching(docs=20)))
    assert all(len(b.docs) + len(b.revisits) <= 20 for b in batches)
    assert [b.last for b in batches] == [False] * (len(batches) - 1) + [True]
    whole = documents_of_file("c", "a.warc.gz", path)
    assert [d.key for b in batches for d in b.docs] == [d.key for d in whole.docs]
    assert len(whole.docs) == 120 and len(whole.revisits) == 9
    assert sum(b.records for b in batches) == whole.records == 120
    by_chars = list(batches_of_file("c", "a.warc.gz", path, batching=Batching(chars=3000)))
    assert len(by_chars) > 5 and whole.chars > 3000
    for batch in by_chars[:-1]:
        biggest = max(len(d.text) + len(d.main) + len(d.title) for d in batch.docs)
        assert batch.chars < 3000 + biggest  # ends with the document that passes the bound


def test_damaged_file_in_small_batches_gives_each_record_once(tmp_path: Path) -> None:
    good = write_warc(tmp_path / "good.warc.gz", pages(40))
    data = bytearray(good.read_bytes())
    at = 0
    for _ in range(25):  # the 26th record's gzip member
        at = data.find(b"\x1f\x8b", at + 10)
    data[at + 30 : at + 60] = b"\x00" * 30
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(bytes(data))
    for size in (3, 7, 1000):
        batches = list(batches_of_file("c", "b", broken, batching=Batching(docs=size)))
        keys = [d.url for b in batches for d in b.docs]
        assert len(keys) == len(set(keys)) == 39, size  # every good record, once
        assert any(b.problems for b in batches)


def test_feed_holds_one_batch_not_the_file(
    settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    count = 1500
    imported(settings, catalog, write_warc(tmp_path / "big.warc.gz", pages(count, words=700)))
    tracemalloc.start()
    try:
        stats = update_search_index(
            settings, catalog, "big", workers=1, batching=Batching(docs=50, commit_docs=100)
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert stats.documents == count and stats.files == 1
    text = 700 * len("w999x699 ")  # characters of one page's text, about
    whole_file = count * 2 * text  # text and main text of every document
    assert peak < whole_file / 4, (peak, whole_file)
    assert total_hits(settings, "w1499x3") == 1


def test_crash_after_a_commit_inside_a_file_reindexes_it(
    settings: Settings, catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported(settings, catalog, write_warc(tmp_path / "one.warc.gz", pages(60)))
    add = TantivySearchIndex._add  # every document goes through it on its way in
    calls = [0]

    def failing(self: TantivySearchIndex, doc: SearchDoc, replace: bool) -> None:
        calls[0] += 1
        if calls[0] == 45:
            raise RuntimeError("power cut")
        add(self, doc, replace)

    monkeypatch.setattr(TantivySearchIndex, "_add", failing)
    batching = Batching(docs=10, commit_docs=10)
    with pytest.raises(RuntimeError):
        update_search_index(settings, catalog, "big", workers=1, batching=batching)
    monkeypatch.undo()
    assert total_hits(settings, "page") == 40  # committed inside the file, before the cut
    with sqlite3.connect(search_dir(settings) / "state.db") as db:
        assert db.execute("SELECT count(*) FROM indexed_file").fetchone() == (0,)
    stats = update_search_index(settings, catalog, "big", workers=1, batching=batching)
    assert stats.files == 1 and stats.documents == 60
    assert total_hits(settings, "page") == 60


def test_worker_processes_stream_several_files(
    settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    for n in range(3):
        path = write_warc(tmp_path / f"f{n}.warc.gz", pages(30 + n, prefix=f"f{n}"))
        imported(settings, catalog, path)
    seen: list[str] = []
    stats = update_search_index(
        settings,
        catalog,
        "big",
        workers=2,
        batching=Batching(docs=4, commit_docs=9),
        progress=lambda done, total, name: seen.append(name),
    )
    assert stats.files == 3 and stats.documents == 93
    assert seen == ["f0.warc.gz", "f1.warc.gz", "f2.warc.gz"]
    assert total_hits(settings, "page") == 93
    assert update_search_index(settings, catalog, "big", workers=2).files == 0
