"""Keep the search index up to date with the catalog's WARC files, incrementally.

Which files are indexed is remembered in `search/state.db`, written only after the
index commit that holds their documents. A crash in between leaves files that are
indexed but not marked; they are indexed again next time, which changes nothing
because a document's key is its collection, URL and digest, and capture times merge.
"""

from __future__ import annotations

import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

from vellum.catalog import Catalog
from vellum.catalog.catalog import WarcFile
from vellum.search.payloads import FileDocs, documents_of_file
from vellum.search.tantivy_index import TantivySearchIndex
from vellum.settings import Settings

__all__ = [
    "FeedStats",
    "open_search_index",
    "rebuild_search_index",
    "search_dir",
    "update_search_index",
]

COMMIT_EVERY = 10_000  # documents held in memory before a commit
Progress = Callable[[int, int, str], None]  # (bytes done, bytes in all, file name)


@dataclass
class FeedStats:
    """What an update did."""

    files: int = 0
    records: int = 0
    documents: int = 0
    revisits: int = 0
    extraction_errors: int = 0
    problems: list[str] = field(default_factory=list)


def search_dir(settings: Settings) -> Path:
    return settings.data_dir / "search"


def open_search_index(settings: Settings) -> TantivySearchIndex:
    """The search index of this data directory (created empty if missing)."""
    return TantivySearchIndex(search_dir(settings) / "index")


class FeedState:
    """The WARC files already in the index, per collection."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30)
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS indexed_file (collection TEXT, filename TEXT, "
                "sha1 TEXT, records INTEGER, indexed TEXT, PRIMARY KEY (collection, filename))"
            )

    def indexed(self, slug: str) -> set[tuple[str, str]]:
        rows = self._db.execute(
            "SELECT filename, sha1 FROM indexed_file WHERE collection = ?", (slug,)
        )
        return {(name, sha1) for name, sha1 in rows}

    def mark(self, files: list[tuple[WarcFile, int]]) -> None:
        now = datetime.now(UTC).isoformat()
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO indexed_file VALUES (?, ?, ?, ?, ?)",
                [(w.collection_slug, w.filename, w.sha1, n, now) for w, n in files],
            )

    def forget(self, slug: str | None) -> None:
        with self._db:
            if slug is None:
                self._db.execute("DELETE FROM indexed_file")
            else:
                self._db.execute("DELETE FROM indexed_file WHERE collection = ?", (slug,))

    def close(self) -> None:
        self._db.close()


def update_search_index(
    settings: Settings,
    catalog: Catalog,
    slug: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> FeedStats:
    """Index the WARC files of collection `slug` (or of all) that are not indexed yet."""
    slugs = [slug] if slug is not None else [c.slug for c in catalog.collections()]
    if slug is not None:
        catalog.get_collection(slug)  # NotFound for an unknown collection
    with closing(FeedState(search_dir(settings) / "state.db")) as state:
        todo: list[WarcFile] = []
        for name in slugs:
            done = state.indexed(name)
            todo += [w for w in catalog.warc_files(name) if (w.filename, w.sha1) not in done]
        if not todo:
            return FeedStats()
        index = open_search_index(settings)
        try:
            return _feed(settings, index, state, todo, progress, workers)
        finally:
            index.close()


def rebuild_search_index(
    settings: Settings,
    catalog: Catalog,
    slug: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> FeedStats:
    """Drop what the index holds of `slug` (or everything) and index its files again."""
    if slug is not None:
        catalog.get_collection(slug)
    with closing(FeedState(search_dir(settings) / "state.db")) as state:
        state.forget(slug)  # first: a crash after this only means more to index again
    path = search_dir(settings) / "index"
    if slug is None:
        TantivySearchIndex.recreate(path).close()
    else:
        index = TantivySearchIndex(path)
        try:
            index.delete_collection(slug)
            index.commit()
        finally:
            index.close()
    return update_search_index(settings, catalog, slug, progress, workers)


def _feed(
    settings: Settings,
    index: TantivySearchIndex,
    state: FeedState,
    todo: list[WarcFile],
    progress: Progress | None,
    workers: int | None,
) -> FeedStats:
    stats = FeedStats()
    total = sum(w.size for w in todo)
    done_bytes = 0
    uncommitted: list[tuple[WarcFile, int]] = []
    for warc, docs in _extracted(settings, todo, workers):
        stats.files += 1
        stats.records += docs.records
        stats.extraction_errors += docs.extraction_errors
        stats.problems += docs.problems
        for doc in docs.docs:
            index.upsert(doc)
        stats.documents += len(docs.docs)
        for key, timestamp in docs.revisits:
            stats.revisits += index.add_capture(key, timestamp)
        if not docs.unreadable:
            uncommitted.append((warc, docs.records))
        done_bytes += warc.size
        if progress is not None:
            progress(done_bytes, total, warc.filename)
        if index.pending() >= COMMIT_EVERY:
            index.commit()
            state.mark(uncommitted)
            uncommitted = []
    index.commit()
    state.mark(uncommitted)
    return stats


def _extracted(
    settings: Settings, todo: list[WarcFile], workers: int | None
) -> Iterator[tuple[WarcFile, FileDocs]]:
    """Each file's documents, in order; several files at once in worker processes."""
    jobs = [(w, _path_of(settings, w)) for w in todo]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) == 1:
        for warc, path in jobs:
            yield warc, documents_of_file(warc.collection_slug, warc.filename, path)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        running: deque[tuple[WarcFile, Future[FileDocs]]] = deque()
        queue = iter(jobs)
        for warc, path in queue:  # at most 2 files per worker in flight: bounded memory
            running.append(
                (warc, pool.submit(documents_of_file, warc.collection_slug, warc.filename, path))
            )
            if len(running) >= 2 * workers:
                break
        while running:
            warc, future = running.popleft()
            for nxt, path in queue:
                running.append(
                    (nxt, pool.submit(documents_of_file, nxt.collection_slug, nxt.filename, path))
                )
                break
            yield warc, future.result()


def _path_of(settings: Settings, warc: WarcFile) -> Path:
    path = settings.warc_dir(warc.collection_slug) / warc.filename
    if not path.exists() and warc.path is not None:
        path = warc.path
    return path
