"""The index store: sorted, append-only CDXJ runs, merged in tiers, in step with the WARCs.

An index directory holds:

    MANIFEST.json            the live runs and the sealed WARC files (replaced atomically)
    .lock                    flock'd while the manifest changes (writers in any process)
    <warc>.cdxj.open         journal of a WARC being written: its entries, unsorted
    seg-<n>.cdxj             a sorted CDXJ segment
    seg-<n>.cdx.gz .idx .loc .ends   a ZipNum shard (pywb reads the .idx/.loc pair)

Entries are appended to the WARC's journal (flushed at once) right after their records
are written. Sealing the WARC sorts its journal into a new small segment. Segments are
merged in tiers (size-tiered, log-structured): when a tier holds `merge_fanin` runs,
they become one run of the next tier, so an entry is rewritten about log(N) times and
adding a WARC never rewrites the whole index. Runs of at least `zipnum_min_lines` lines
are written as ZipNum shards.

Every change writes its new files first (temp name, fsync, rename), then replaces the
manifest the same way, then deletes what it replaced. A kill at any point leaves either
the old or the new manifest, plus files that `recover()` deletes as orphans; it then
re-indexes from the WARC files any WARC the manifest does not hold in full.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from vellum.errors import VellumError
from vellum.index.cdxj import Capture
from vellum.index.indexer import index_warc
from vellum.index.query import CdxQuery, execute, parse_line
from vellum.index.segments import (
    MANIFEST,
    CdxjSegment,
    ExcludingRun,
    LiveRuns,
    Manifest,
    RunEntry,
    SortedRun,
    fsync_dir,
    held_elsewhere,
    journal_lines,
    json_name,
    merge_lines,
    open_journal,
    read_manifest,
    sorted_unique,
    stale_temp,
    sync,
    write_lines,
)
from vellum.index.zipnum import ZipNumRun, write_loc, write_shard

__all__ = ["CdxjIndex", "IndexStore", "SegmentedIndex", "StoreOptions", "open_index"]

JOURNAL_SUFFIX = ".cdxj.open"
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
ZIPNUM_SUFFIXES = (".cdx.gz", ".idx", ".loc", ".ends")
_RUN_SUFFIXES = (".cdxj", *ZIPNUM_SUFFIXES)
_PART = "shard"  # the part name in a shard's pywb summary; its .loc maps it to the file
_temp_names = itertools.count(1)


class IndexStore(Protocol):
    """What capture and import write to, and replay and the CDX API read from."""

    def append(self, warc_filename: str, captures: Iterable[Capture]) -> None:
        """Entries for records just written to the WARC, flushed at once (any order)."""

    def seal(self, warc_filename: str) -> None:
        """That WARC file is complete: make its entries a sorted segment."""

    def recover(self) -> list[str]:
        """Make the index match the WARC files after a crash; return the WARCs re-indexed."""

    def remove(self, warc_filename: str) -> None:
        """Drop a WARC file's entries."""

    def query(self, q: CdxQuery) -> Iterator[Capture]:
        """The captures the query selects, streamed."""

    def captures(self, url: str) -> list[Capture]:
        """Every capture whose key equals `url`'s, oldest first."""

    def all(self) -> Iterator[Capture]:
        """Every capture, in index order."""

    def close(self) -> None:
        """Seal the WARCs still open, finish merging, release files."""


@dataclass(frozen=True)
class StoreOptions:
    """How a store lays out and merges its runs."""

    merge_fanin: int = 8  # this many runs of one tier are merged into one
    tier_base_lines: int = 4096  # runs below this many lines form tier 0
    zipnum_min_lines: int | None = 1_000_000  # runs this long become ZipNum; None: never
    # Lines per ZipNum block. 3,000 is the convention for files handed to other tools;
    # a lookup inflates half a block on average, so the live store uses 500 (~0.3 ms
    # instead of ~2 ms per shard read; 1% larger). pywb reads any block size.
    block_lines: int = 500
    background: bool = True  # merge in a thread (False: within seal/recover)
    sort_buffer_lines: int = 250_000  # sealing sorts this many lines in memory at most

    def tier(self, lines: int) -> int:
        tier, size = 0, self.tier_base_lines
        while lines >= size:
            tier, size = tier + 1, size * self.merge_fanin
        return tier


def open_index(index_dir: Path, warc_dir: Path, options: StoreOptions | None = None) -> IndexStore:
    """The index of one collection."""
    return SegmentedIndex(index_dir, warc_dir, options)


@dataclass
class _Written:
    """A run written under temporary names, not yet installed."""

    kind: str
    lines: int
    size: int
    files: dict[str, Path]  # final suffix -> temporary path


def _no_step(name: str) -> None:
    """Tests replace this to stop ("kill") a store at a named step."""


class SegmentedIndex:
    """The `IndexStore` of a directory of sorted runs (see the module docstring)."""

    def __init__(self, directory: Path, warc_dir: Path, options: StoreOptions | None = None):
        self._dir = directory
        self._warc_dir = warc_dir
        self._options = options or StoreOptions()
        self._mutex = threading.RLock()
        self._lock_fd: int | None = None
        self._lock_depth = 0
        self._journals: dict[str, BinaryIO] = {}
        self._live = LiveRuns(directory, self._open_run, JOURNAL_SUFFIX)
        self._merger: threading.Thread | None = None
        self._merge_error: BaseException | None = None
        self._step: Callable[[str], None] = _no_step

    def __enter__(self) -> SegmentedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # writing

    def append(self, warc_filename: str, captures: Iterable[Capture]) -> None:
        with self._mutex:
            journal = self._journals.get(warc_filename) or self._open_journal(warc_filename)
            lines = (c.to_line() for c in captures)
            while batch := list(itertools.islice(lines, 4096)):
                journal.write(("\n".join(batch) + "\n").encode())
            journal.flush()

    def seal(self, warc_filename: str) -> None:
        with self._writing():
            m = self._load()
            path = self._journal_path(warc_filename)
            if path.exists():
                self._add_run(m, journal_lines(path), warc_filename)
            m.warcs[warc_filename] = self._warc_size(warc_filename)
            self._save(m)
            journal = self._journals.pop(warc_filename, None)
            if journal is not None:
                journal.close()
            path.unlink(missing_ok=True)
            self._step("seal:done")
        self._merge_soon()

    def remove(self, warc_filename: str) -> None:
        with self._writing():
            journal = self._journals.pop(warc_filename, None)
            if journal is not None:
                journal.close()
            self._journal_path(warc_filename).unlink(missing_ok=True)
            m = self._load()
            emptied = m.hide(warc_filename)
            m.warcs.pop(warc_filename, None)
            self._save(m)
            for run in emptied:
                self._delete_run(run.name)

    def recover(self) -> list[str]:
        for name in list(self._journals):
            self.seal(name)
        self._wait_for_merges()
        fixed: list[str] = []
        with self._writing():
            m = self._load(damaged_ok=True)
            live = self._live_journals()
            lost = [run for run in m.runs if not self._run_files_exist(run)]
            for run in lost:  # deleted by hand: index its WARCs again
                m.runs.remove(run)
                for name in run.warcs:
                    m.warcs.pop(name, None)
            self._delete_orphans(m)
            on_disk = self._warcs_on_disk()
            known = set(m.warcs).union(*(run.warcs for run in m.runs))
            gone = sorted(name for name in known - set(on_disk) if name not in live)
            emptied = [run for name in gone for run in m.hide(name)]
            for name in gone:
                m.warcs.pop(name, None)
            if m.to_json() != _read_bytes(self._dir / MANIFEST):
                self._save(m)
            for run in emptied:
                self._delete_run(run.name)
            for name, size in sorted(on_disk.items()):
                if name in live or m.warcs.get(name) == size:
                    continue
                emptied = m.hide(name)
                lines = (c.to_line().encode() for c in index_warc(self._warc_dir / name))
                self._add_run(m, lines, name)
                m.warcs[name] = size
                self._save(m)
                for run in emptied:
                    self._delete_run(run.name)
                fixed.append(name)
                self._step("recover:indexed")
            for path in self._journal_paths():
                if path.name[: -len(JOURNAL_SUFFIX)] not in live:
                    path.unlink(missing_ok=True)
        self._merge_soon()
        return fixed

    def compact(self, zipnum: bool | None = None) -> None:
        """Merge every run into one (a ZipNum shard if `zipnum`, else as the options say)."""
        self._wait_for_merges()
        with self._writing():
            runs = list(self._load().runs)
        if not runs:
            return
        kind_ok = zipnum is None or (runs[0].kind == "zipnum") == zipnum
        if len(runs) > 1 or runs[0].hidden or not kind_ok:
            self._merge(runs, zipnum)

    def close(self) -> None:
        for name in list(self._journals):
            self.seal(name)
        self._wait_for_merges()
        with self._mutex:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
        error, self._merge_error = self._merge_error, None
        if error is not None:
            raise VellumError(f"merging index segments in {self._dir} failed: {error}")

    def _abandon(self) -> None:
        """What a kill leaves behind: files closed and locks released, nothing else done."""
        for journal in self._journals.values():
            journal.close()
        self._journals.clear()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd, self._lock_depth = None, 0

    # reading

    def query(self, q: CdxQuery) -> Iterator[Capture]:
        return execute(self._live.current(), q)

    def captures(self, url: str) -> list[Capture]:
        return list(self.query(CdxQuery(url)))

    def all(self) -> Iterator[Capture]:
        return (parse_line(line) for line in self.lines())

    def lines(self) -> Iterator[bytes]:
        """Every index line as stored (no newline), in index order: `all` unparsed."""
        windows = [
            w for w in (run.window(b"", None) for run in self._live.current()) if w is not None
        ]
        return merge_lines([w.lines() for w in windows])

    def runs_on_disk(self) -> list[RunEntry]:
        """The live runs, as the manifest lists them."""
        return list(self._load().runs)

    # the manifest and the files it lists

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the store's lock, against other threads and other processes."""
        with self._mutex:
            if self._lock_fd is None:
                self._dir.mkdir(parents=True, exist_ok=True)
                self._lock_fd = os.open(self._dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
            if self._lock_depth == 0:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0 and self._lock_fd is not None:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _load(self, damaged_ok: bool = False) -> Manifest:
        try:
            return read_manifest(self._dir) or Manifest()
        except VellumError:
            if damaged_ok:
                return Manifest()
            raise

    def _save(self, m: Manifest) -> None:
        final = self._dir / MANIFEST
        temp = self._temp_path(MANIFEST)
        with open(temp, "wb") as f:
            f.write(m.to_json())
            f.flush()
            os.fsync(f.fileno())
        self._step("manifest:written")
        os.replace(temp, final)
        fsync_dir(self._dir)
        self._step("manifest:replaced")

    def _temp_path(self, stem: str) -> Path:
        return self._dir / f"{stem}.tmp-{os.getpid()}-{next(_temp_names)}"

    def _add_run(self, m: Manifest, lines: Iterable[bytes], warc_filename: str) -> None:
        """Sort one WARC's entries into a new run (the manifest still has to be saved)."""
        kind = "zipnum" if self._options.zipnum_min_lines == 0 else "cdxj"
        ordered = sorted_unique(lines, self._options.sort_buffer_lines, self._dir)
        written = self._write(ordered, kind)
        if written is not None:
            m.runs.append(self._install(m, written, [warc_filename]))

    def _write(self, lines: Iterable[bytes], kind: str) -> _Written | None:
        """Write a run under temporary names (None if there are no lines)."""
        if self._step is not _no_step:
            lines = self._stepping(lines)
        if kind == "cdxj":
            files = {".cdxj": self._temp_path("run")}
            with open(files[".cdxj"], "wb") as out:
                count = write_lines(out, lines)
                sync(out)
        else:
            files = {s: self._temp_path("run") for s in (".cdx.gz", ".idx", ".ends")}
            count = write_shard(lines, files, _PART, self._options.block_lines)
        if count == 0:
            for path in files.values():
                path.unlink()
            return None
        size = sum(path.stat().st_size for path in files.values())
        return _Written(kind, count, size, files)

    def _stepping(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        for i, line in enumerate(lines):
            if i == 1:
                self._step("run:writing")
            yield line

    def _install(self, m: Manifest, written: _Written, warcs: list[str]) -> RunEntry:
        """Give a written run its final name (the manifest still has to be saved)."""
        name = f"seg-{m.next_id:08d}"
        m.next_id += 1
        for suffix, temp in written.files.items():
            os.replace(temp, self._dir / (name + suffix))
        size = written.size
        if written.kind == "zipnum":
            with open(self._dir / (name + ".loc"), "wb") as loc:
                write_loc(loc, _PART, name + ".cdx.gz")
                sync(loc)
            size += (self._dir / (name + ".loc")).stat().st_size
        fsync_dir(self._dir)
        self._step("run:installed")
        return RunEntry(name, written.kind, written.lines, size, sorted(set(warcs)))

    def _run_files_exist(self, run: RunEntry) -> bool:
        suffixes = (".cdxj",) if run.kind == "cdxj" else (".cdx.gz", ".idx", ".loc")
        return all((self._dir / (run.name + suffix)).exists() for suffix in suffixes)

    def _delete_run(self, name: str) -> None:
        for suffix in _RUN_SUFFIXES:
            (self._dir / (name + suffix)).unlink(missing_ok=True)
        self._step("run:deleted")

    def _delete_orphans(self, m: Manifest) -> None:
        """Files no manifest run owns: runs half-written, or replaced, before a crash."""
        owned = {run.name + suffix for run in m.runs for suffix in _RUN_SUFFIXES}
        for path in self._dir.iterdir():
            name = path.name
            if ".tmp-" in name:
                if stale_temp(name):
                    path.unlink(missing_ok=True)
            elif name.endswith(_RUN_SUFFIXES) and name not in owned:
                path.unlink(missing_ok=True)

    def _warc_size(self, warc_filename: str) -> int:
        try:
            return (self._warc_dir / warc_filename).stat().st_size
        except OSError:
            return -1

    def _warcs_on_disk(self) -> dict[str, int]:
        if not self._warc_dir.is_dir():
            return {}
        return {
            p.name: p.stat().st_size
            for p in self._warc_dir.iterdir()
            if p.name.endswith(WARC_SUFFIXES) and p.is_file()
        }

    # journals

    def _journal_path(self, warc_filename: str) -> Path:
        return self._dir / (warc_filename + JOURNAL_SUFFIX)

    def _journal_paths(self) -> list[Path]:
        if not self._dir.is_dir():
            return []
        return sorted(p for p in self._dir.iterdir() if p.name.endswith(JOURNAL_SUFFIX))

    def _open_journal(self, warc_filename: str) -> BinaryIO:
        self._dir.mkdir(parents=True, exist_ok=True)
        journal = open_journal(self._journal_path(warc_filename))
        if journal is None:
            raise VellumError(
                f"{warc_filename} is being indexed by another process; wait for it to finish"
            )
        self._journals[warc_filename] = journal
        return journal

    def _live_journals(self) -> set[str]:
        """WARCs whose journal another process holds open (their WARC is being written)."""
        return {
            path.name[: -len(JOURNAL_SUFFIX)]
            for path in self._journal_paths()
            if path.name[: -len(JOURNAL_SUFFIX)] not in self._journals and held_elsewhere(path)
        }

    # merging

    def _merge_soon(self) -> None:
        if not self._options.background:
            self._merge_while_needed()
            return
        with self._mutex:
            if self._merger is None or not self._merger.is_alive():
                self._merger = threading.Thread(
                    target=self._merge_in_background, name="vellum-index-merge", daemon=True
                )
                self._merger.start()

    def _merge_in_background(self) -> None:
        try:
            self._merge_while_needed()
        except Exception as exc:  # reported by close(); the index stays consistent
            self._merge_error = exc

    def _wait_for_merges(self) -> None:
        merger = self._merger
        if merger is not None and merger is not threading.current_thread():
            merger.join()

    def _merge_while_needed(self) -> None:
        while True:
            with self._writing():
                picked = self._pick(self._load())
            if not picked:
                return
            self._merge(picked)

    def _pick(self, m: Manifest) -> list[RunEntry]:
        """The runs of the lowest tier that holds `merge_fanin` of them, if any."""
        tiers: dict[int, list[RunEntry]] = {}
        for run in m.runs:
            tiers.setdefault(self._options.tier(run.lines), []).append(run)
        for tier in sorted(tiers):
            if len(tiers[tier]) >= self._options.merge_fanin:
                return tiers[tier]
        return []

    def _merge(self, picked: list[RunEntry], zipnum: bool | None = None) -> None:
        """Merge runs into one, then swap it in, unless they changed in the meantime."""
        sources = [self._open_run(run) for run in picked]
        windows = [w for w in (s.window(b"", None) for s in sources) if w is not None]
        total = sum(run.lines for run in picked)
        threshold = self._options.zipnum_min_lines
        if zipnum is None:
            zipnum = threshold is not None and total >= threshold
        written = self._write(
            merge_lines([w.lines() for w in windows]), "zipnum" if zipnum else "cdxj"
        )
        with self._writing():
            m = self._load()
            current = {run.name: run for run in m.runs}
            if any(run.name not in current for run in picked):  # merged by another process
                for path in written.files.values() if written else ():
                    path.unlink(missing_ok=True)
                return
            names = {run.name for run in picked}
            warcs = sorted({w for run in picked for w in current[run.name].warcs})
            hidden = {h for run in picked for h in current[run.name].hidden} - {
                h for run in picked for h in run.hidden
            }
            m.runs = [run for run in m.runs if run.name not in names]
            if written is not None and warcs:
                entry = self._install(m, written, warcs)
                entry.hidden = sorted(hidden)
                m.runs.append(entry)
            elif written is not None:
                for path in written.files.values():
                    path.unlink(missing_ok=True)
            self._save(m)
            for name in sorted(names):
                self._delete_run(name)

    # the runs a query reads

    def _open_run(self, run: RunEntry) -> SortedRun:
        base = self._dir / run.name
        inner: SortedRun
        if run.kind == "zipnum":
            parts = {_PART: base.with_name(run.name + ".cdx.gz")}
            idx, ends = base.with_name(run.name + ".idx"), base.with_name(run.name + ".ends")
            inner = ZipNumRun(idx, parts, ends)
        else:
            inner = CdxjSegment(base.with_name(run.name + ".cdxj"))
        hidden = frozenset(json_name(h) for h in run.hidden)
        return ExcludingRun(inner, hidden) if hidden else inner


CdxjIndex = SegmentedIndex
"""The name callers used before `open_index`; same class."""


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
