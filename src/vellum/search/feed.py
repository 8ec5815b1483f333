"""Keep the search index up to date with the catalog's WARC files, incrementally.

Which files are indexed is remembered in `search/state.db`, written only after the
index commit that holds their documents. A crash in between leaves files that are
indexed but not marked; they are indexed again next time, which changes nothing
because a document's key is its collection, URL and digest, and capture times merge.

Memory stays flat whatever the size of a file: worker processes read files in batches
(`Batching`) and hand them over through queues that hold at most four batches each
(enough to keep extracting while the index commits), and the index commits whenever its
uncommitted documents reach a bound (a commit in the middle of a file is fine: the file
is marked only after the commit that follows its last batch).

The index looks the keys of a whole batch up at once (`upsert_many`), and tokenizes each
word of a page once: the main text and the text around it are separate fields.
"""

from __future__ import annotations

import os
import queue
import sqlite3
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path

from vellum.catalog import Catalog
from vellum.catalog.catalog import WarcFile
from vellum.errors import VellumError
from vellum.search.payloads import DEFAULT_BATCHING, Batching, FileDocs, batches_of_file
from vellum.search.tantivy_index import TantivySearchIndex
from vellum.settings import Settings

__all__ = [
    "Batching",
    "FeedStats",
    "open_search_index",
    "rebuild_search_index",
    "search_dir",
    "update_search_index",
]

_IN_PROCESS = 16 * 1024 * 1024  # a lone file this small is read without a worker process
_QUEUED = 4  # batches a worker may have ready before it waits for the feed
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
    batching: Batching = DEFAULT_BATCHING,
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
            return _feed(settings, index, state, todo, progress, workers, batching)
        finally:
            index.close()


def rebuild_search_index(
    settings: Settings,
    catalog: Catalog,
    slug: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    batching: Batching = DEFAULT_BATCHING,
    fast_phrases: bool | None = None,
) -> FeedStats:
    """Drop what the index holds of `slug` (or everything) and index its files again.

    `fast_phrases` (whole index only): index pairs of common words, or stop doing so;
    None keeps the index's choice.
    """
    if slug is not None:
        catalog.get_collection(slug)
        if fast_phrases is not None:
            raise VellumError("fast phrases are chosen for the whole index, not one collection")
    with closing(FeedState(search_dir(settings) / "state.db")) as state:
        state.forget(slug)  # first: a crash after this only means more to index again
    path = search_dir(settings) / "index"
    if slug is None:
        TantivySearchIndex.recreate(path, fast_phrases).close()
    else:
        index = TantivySearchIndex(path)
        try:
            index.delete_collection(slug)
            index.commit()
        finally:
            index.close()
    return update_search_index(settings, catalog, slug, progress, workers, batching)


def _feed(
    settings: Settings,
    index: TantivySearchIndex,
    state: FeedState,
    todo: list[WarcFile],
    progress: Progress | None,
    workers: int | None,
    batching: Batching,
) -> FeedStats:
    stats = FeedStats()
    total = sum(w.size for w in todo)
    done_bytes = 0
    file_records = 0
    uncommitted: list[tuple[WarcFile, int]] = []  # files read whole, not yet committed
    with closing(_extracted(settings, todo, workers, batching)) as batches:
        for warc, batch in batches:
            _take(index, stats, batch)
            file_records += batch.records
            if batch.last:
                stats.files += 1
                if not batch.unreadable:
                    uncommitted.append((warc, file_records))
                file_records = 0
                done_bytes += warc.size
                if progress is not None:
                    progress(done_bytes, total, warc.filename)
            del batch  # the index holds what it still needs
            if (
                index.pending() >= batching.commit_docs
                or index.pending_chars() >= batching.commit_chars
            ):
                index.commit()
                state.mark(uncommitted)
                uncommitted = []
    index.commit()
    state.mark(uncommitted)
    return stats


def _take(index: TantivySearchIndex, stats: FeedStats, batch: FileDocs) -> None:
    """Hand a batch's documents and revisits to the index, and count them."""
    stats.records += batch.records
    stats.extraction_errors += batch.extraction_errors
    stats.problems += batch.problems
    index.upsert_many(batch.docs)
    stats.documents += len(batch.docs)
    for key, timestamp in batch.revisits:
        stats.revisits += index.add_capture(key, timestamp)


def _extracted(
    settings: Settings, todo: list[WarcFile], workers: int | None, batching: Batching
) -> Generator[tuple[WarcFile, FileDocs]]:
    """Each file's batches, files in order; read ahead by worker processes.

    File i goes to worker i mod n, which reads its files one after the other and waits
    whenever `_QUEUED` batches are ready: at most n * (`_QUEUED` + 1) batches exist at once.
    """
    jobs = [(w, _path_of(settings, w)) for w in todo]
    count = min(workers or os.cpu_count() or 1, len(jobs))
    if workers == 1 or (len(jobs) == 1 and todo[0].size <= _IN_PROCESS):
        count = 0  # no process to start: read here
    if count == 0:
        for warc, path in jobs:
            for batch in batches_of_file(
                warc.collection_slug, warc.filename, path, batching=batching
            ):
                yield warc, batch
        return
    context = get_context("spawn")
    queues: list[Queue[FileDocs | str]] = [context.Queue(_QUEUED) for _ in range(count)]
    procs: list[BaseProcess] = []
    try:
        for i in range(count):
            mine = [(w.collection_slug, w.filename, str(p)) for w, p in jobs[i::count]]
            worker = context.Process(target=_work, args=(mine, queues[i], batching), daemon=True)
            worker.start()
            procs.append(worker)
        for n, (warc, _path) in enumerate(jobs):
            while True:
                item = _next(queues[n % count], procs[n % count])
                if isinstance(item, str):
                    raise VellumError(f"cannot index {warc.filename}: {item}")
                yield warc, item
                if item.last:
                    break
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for q in queues:
            q.cancel_join_thread()
            q.close()


def _work(jobs: list[tuple[str, str, str]], out: Queue[FileDocs | str], batching: Batching) -> None:
    """A worker process: the batches of its files, in order; an error as a string."""
    try:
        for slug, filename, path in jobs:
            for batch in batches_of_file(slug, filename, Path(path), batching=batching):
                out.put(batch)
    except Exception as exc:  # handed to the feed, which stops with it
        out.put(f"{type(exc).__name__}: {exc}")


def _next(source: Queue[FileDocs | str], proc: BaseProcess) -> FileDocs | str:
    """The next batch from a worker; an error string if the worker died without one."""
    while True:
        try:
            return source.get(timeout=1.0)
        except queue.Empty:
            if not proc.is_alive():
                try:
                    return source.get(timeout=1.0)
                except queue.Empty:
                    return f"the worker process stopped (exit code {proc.exitcode})"


def _path_of(settings: Settings, warc: WarcFile) -> Path:
    path = settings.warc_dir(warc.collection_slug) / warc.filename
    if not path.exists() and warc.path is not None:
        path = warc.path
    return path
