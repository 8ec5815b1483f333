"""`vellum import`: WARC and ARC files written by other tools, copied in and indexed.

Each file is checked (WARC or ARC, gzipped record by record), copied into the
collection's `warcs/` directory — or, with `in_place`, linked there from where it is —
with its size, SHA-1 and MD5 computed on the way, and indexed. With several files the
copying and indexing run in a process pool, one file per process; the index store and
the catalog are written here, in the parent, one file at a time and in the order given.

Nothing half-done is left behind: a copy is made under `warcs/.importing/` and moved to
its final name only once indexed; the index entries are written after that, then the
catalog row. A file already in the collection (same SHA-1) is skipped.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.queues
import os
import queue
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vellum.catalog.catalog import Catalog, WarcFile
from vellum.errors import InvalidInput, VellumError
from vellum.index.indexer import IndexedCapture, index_warc
from vellum.index.store import IndexStore, open_index
from vellum.settings import Settings
from vellum.warc.entry import Problem
from vellum.warc.ingest import (
    Checksums,
    checksums,
    copy_with_checksums,
    free_name,
    recompress,
    sync,
)
from vellum.warc.reader import sniff_file
from vellum.warc.sniff import Kind

__all__ = [
    "ImportReport",
    "ImportedFile",
    "Importer",
    "SkippedFile",
    "register_warc_file",
    "warc_path",
]

_STAGING = ".importing"
_REPORT_EVERY = 4 << 20  # bytes of a file indexed between two progress reports


class ImportProgress(Protocol):
    """Where the importer reports bytes: each file counts twice (copied, then indexed)."""

    def start(self, total: int) -> None:
        """Work is about to start: `total` bytes in all."""

    def advance(self, done: int) -> None:
        """`done` more bytes are done."""


@dataclass(frozen=True)
class ImportedFile:
    """A file now in the collection: under which name, with how many captures."""

    source: Path
    filename: str
    captures: int
    size: int
    in_place: bool


@dataclass(frozen=True)
class SkippedFile:
    """A file left out, and why."""

    source: Path
    reason: str
    bad: bool  # a file that could not be imported (not: one already there)


@dataclass
class ImportReport:
    """What an import did: files imported, files skipped, and each bad spot met."""

    slug: str
    imported: list[ImportedFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # `file:offset: reason`

    @property
    def failed(self) -> bool:
        """Whether anything was skipped because it was bad (the command then exits 1)."""
        return bool(self.problems) or any(s.bad for s in self.skipped)


# work done in the pool (or in this process for a single file)


@dataclass(frozen=True)
class _Job:
    source: str
    display: str
    filename: str
    staged: str | None  # where the copy goes; None when the file stays in place
    known: dict[str, str]  # SHA-1 → name of the files already in the collection
    recompress: bool = False  # gzipped as one stream: recompress record by record


@dataclass(frozen=True)
class _Done:
    sums: Checksums
    captures: list[IndexedCapture]
    problems: list[Problem]
    duplicate_of: str | None = None


_progress_queue: multiprocessing.queues.Queue[int] | None = None


def _init_worker(progress: multiprocessing.queues.Queue[int]) -> None:
    global _progress_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _progress_queue = progress


def _report_to_queue(done: int) -> None:
    if _progress_queue is not None:
        _progress_queue.put(done)


def _run_job(job: _Job, progress: Callable[[int], None] = _report_to_queue) -> _Done:
    """Copy (or only read) a file computing its checksums, then index it.

    Reports the file's size twice through `progress`: as it is read, then as it is indexed.
    """
    source = Path(job.source)
    size = source.stat().st_size
    if job.recompress and job.staged is not None:
        try:
            recompress(source, Path(job.staged))
        except Exception as exc:
            progress(2 * size)
            reason = f"cannot be recompressed: {str(exc).strip().splitlines()[0]}"
            return _Done(Checksums(0, "", ""), [], [Problem(0, reason)])
        progress(size)
        sums = checksums(Path(job.staged))
    elif job.staged is not None and job.staged != job.source:
        sums = copy_with_checksums(source, Path(job.staged), progress)
    else:
        sums = checksums(source, progress)
    if sums.sha1 in job.known:
        progress(size)
        return _Done(sums, [], [], duplicate_of=job.known[sums.sha1])
    problems: list[Problem] = []
    captures: list[IndexedCapture] = []
    reported = 0
    path = Path(job.staged) if job.staged is not None else source
    for capture in index_warc(path, problems, filename=job.filename):
        captures.append(capture)
        if capture.offset - reported >= _REPORT_EVERY and not job.recompress:
            progress(capture.offset - reported)
            reported = capture.offset
    progress(size - reported)
    if job.staged is not None:
        sync(Path(job.staged))  # on disk before it gets its final name
    return _Done(sums, captures, sorted(problems, key=lambda p: p.offset))


class Importer:
    """Imports files into a collection: checks, copies, indexes, records (see module doc)."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        workers: int | None = None,
        store_factory: Callable[[Path, Path], IndexStore] = open_index,
        recompress: bool = False,
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._workers = workers or os.cpu_count() or 1
        self._store_factory = store_factory
        self._recompress = recompress

    def run(
        self,
        slug: str,
        files: Sequence[Path],
        in_place: bool = False,
        progress: ImportProgress | None = None,
        take: bool = False,
    ) -> ImportReport:
        """Import `files` into collection `slug`; a report says what became of each.

        With `take`, the files are the caller's temporary copies, on the collection's
        file system: they are moved in (checksummed, indexed, linked) rather than copied.
        """
        if in_place and self._recompress:
            raise InvalidInput("files recompressed cannot stay in place: drop --in-place")
        self._catalog.get_collection(slug)  # NotFound for people
        report = ImportReport(slug)
        warc_dir = self._settings.warc_dir(slug)
        index_dir = self._settings.index_dir(slug)
        for directory in (warc_dir, index_dir):
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise VellumError(f"cannot create {directory}: {exc.strerror}") from None
        known = {f.sha1: f.filename for f in self._catalog.warc_files(slug)}
        taken = set(os.listdir(warc_dir)) | {f.filename for f in self._catalog.warc_files(slug)}
        staging = Path(tempfile.mkdtemp(prefix="run-", dir=_staging_dir(warc_dir)))
        jobs: list[_Job] = []
        total = 0
        for source in files:
            job = self._plan(source, in_place, known, taken, staging, report, take)
            if job is not None:
                jobs.append(job)
                taken.add(job.filename)
                total += 2 * Path(job.source).stat().st_size
        pool = _Pool(min(self._workers, len(jobs))) if len(jobs) > 1 and self._workers > 1 else None
        advance = progress.advance if progress is not None else _ignore
        try:
            if progress is not None:
                progress.start(total)
            store = self._store_factory(index_dir, warc_dir)
            try:
                seen: dict[str, str] = {}
                results = (
                    pool.results(jobs, advance)
                    if pool is not None
                    else ((job, _run_job(job, advance)) for job in jobs)
                )
                for job, done in results:
                    self._finish(job, done, store, warc_dir, seen, report)
            finally:
                store.close()
        finally:
            if pool is not None:
                pool.close()
            shutil.rmtree(staging, ignore_errors=True)
            with contextlib.suppress(OSError):
                staging.parent.rmdir()
        return report

    def _plan(
        self,
        source: Path,
        in_place: bool,
        known: dict[str, str],
        taken: set[str],
        staging: Path,
        report: ImportReport,
        take: bool = False,
    ) -> _Job | None:
        """The job for one file, or None (and a reason in the report) if it cannot be had."""
        display = str(source)
        if not source.is_file():
            why = "no such file" if not source.exists() else "not a regular file"
            report.skipped.append(SkippedFile(source, why, bad=True))
            report.problems.append(f"{display}:0: {why}")
            return None
        try:
            sniffed = sniff_file(source)
        except VellumError as exc:
            report.skipped.append(SkippedFile(source, str(exc), bad=True))
            report.problems.append(f"{display}:0: {exc}")
            return None
        reason = None
        if sniffed.kind is Kind.EMPTY:
            reason = "empty file"
        elif not sniffed.is_archive:
            reason = "not a WARC or ARC file"
        elif sniffed.whole_file_gzip and self._recompress:
            fixed = free_name(_fixed_name(source), Kind.WARC_GZ, taken)
            return _Job(
                str(source.resolve()), display, fixed, str(staging / fixed), known, recompress=True
            )
        elif sniffed.whole_file_gzip:
            reason = (
                "gzipped as one stream, not record by record, so its records cannot be "
                f"addressed; recompress it first: warcio recompress {display} "
                f"{_fixed_name(source)} (or import it with --recompress)"
            )
        if reason is not None:
            report.skipped.append(SkippedFile(source, reason, bad=True))
            report.problems.append(f"{display}:0: {reason}")
            return None
        filename = free_name(source.name, sniffed.kind, taken)
        absolute = source.resolve()
        staged = None if in_place else str(absolute if take else staging / filename)
        return _Job(str(absolute), display, filename, staged, known)

    def _finish(
        self,
        job: _Job,
        done: _Done,
        store: IndexStore,
        warc_dir: Path,
        seen: dict[str, str],
        report: ImportReport,
    ) -> None:
        """Put one indexed file in place, write its index entries, then its catalog row."""
        source = Path(job.display)
        staged = Path(job.staged) if job.staged is not None else None
        report.problems.extend(p.format(job.display) for p in done.problems)
        duplicate = done.duplicate_of or seen.get(done.sums.sha1)
        if duplicate is not None:
            _discard(staged)
            reason = f"already in collection {report.slug!r} as {duplicate} (same SHA-1)"
            report.skipped.append(SkippedFile(source, reason, bad=False))
            return
        if not done.captures and done.problems:
            _discard(staged)
            report.skipped.append(SkippedFile(source, "nothing in it could be indexed", bad=True))
            return
        final = warc_dir / job.filename
        try:
            if staged is not None:
                os.link(staged, final)  # fails rather than replace a file of the same name
                staged.unlink()
            else:
                os.symlink(job.source, final)
        except OSError as exc:
            _discard(staged)
            raise VellumError(f"cannot put {job.filename} in {warc_dir}: {exc.strerror}") from None
        store.append(job.filename, done.captures)
        store.seal(job.filename)
        self._catalog.add_warc_file(
            report.slug,
            job.filename,
            done.sums.size,
            done.sums.sha1,
            done.sums.md5,
            source="import",
            path=Path(job.source) if staged is None else None,
        )
        seen[done.sums.sha1] = job.filename
        report.imported.append(
            ImportedFile(source, job.filename, len(done.captures), done.sums.size, staged is None)
        )


class _Pool:
    """Worker processes for the jobs; results come back in the order of the jobs.

    Made before any thread starts (the progress display has one): workers are forked
    where the platform allows it, so they need not import Vellum again, and a script
    using the importer needs no `if __name__ == "__main__"` guard. Workers ignore
    Ctrl-C; `close` stops them (the caller removes the copies they were making).
    """

    def __init__(self, workers: int) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._progress: multiprocessing.queues.Queue[int] = context.Queue()
        self._pool = context.Pool(workers, initializer=_init_worker, initargs=(self._progress,))

    def results(
        self, jobs: list[_Job], advance: Callable[[int], None]
    ) -> Iterator[tuple[_Job, _Done]]:
        pending = [self._pool.apply_async(_run_job, (job,)) for job in jobs]
        for job, result in zip(jobs, pending, strict=True):
            while not result.ready():
                result.wait(0.1)
                self._drain(advance)
            self._drain(advance)
            yield job, result.get()

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()

    def _drain(self, advance: Callable[[int], None]) -> None:
        while True:
            try:
                advance(self._progress.get_nowait())
            except queue.Empty:
                return


def _ignore(done: int) -> None:
    """Progress nobody watches."""


def _staging_dir(warc_dir: Path) -> Path:
    path = warc_dir / _STAGING
    path.mkdir(exist_ok=True)
    return path


def _discard(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def _fixed_name(source: Path) -> str:
    name = source.name
    for ending in (".bad", ".gz", ".warc", ".arc"):
        if name.endswith(ending):
            name = name[: -len(ending)]
    return f"{name}-fixed.warc.gz"


# for the crawler and for replay


def register_warc_file(catalog: Catalog, slug: str, path: Path, source: str = "crawl") -> WarcFile:
    """Record a finished WARC file of collection `slug` with its size, SHA-1 and MD5.

    For the crawler, once it has closed a WARC file in `warcs/`. Does nothing (returns
    the existing row) if the collection already has a file of that name.
    """
    for existing in catalog.warc_files(slug):
        if existing.filename == path.name:
            return existing
    sums = checksums(path)
    return catalog.add_warc_file(slug, path.name, sums.size, sums.sha1, sums.md5, source=source)


def warc_path(settings: Settings, slug: str, filename: str) -> Path:
    """Where the WARC file an index entry names is: in `warcs/`, or (imported with
    `--in-place`) where the link there points. Raises VellumError if it is gone."""
    path = settings.warc_dir(slug) / filename
    if path.is_symlink() and not path.exists():
        raise VellumError(
            f"WARC file {filename} of collection {slug!r} was imported in place from "
            f"{os.readlink(path)}, which is no longer there"
        )
    return path
