"""Sorted runs of CDXJ lines (segment files read through mmap, lines in memory) and the
manifest that lists the live ones.

A run is an immutable sequence of CDXJ lines (bytes, no newline) sorted by raw bytes,
as `LC_ALL=C sort` sorts them. Queries never read a run whole: they ask it for a
`Window`, the lines in a key range `[start, end)`, found by binary search, and read it
forward or backward, or split it at a pivot key (what a "closest" lookup does).
ZipNum shards (`zipnum.py`) are runs too.
"""

from __future__ import annotations

import bisect
import fcntl
import heapq
import itertools
import json
import mmap
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from json.encoder import encode_basestring_ascii as _json_str
from pathlib import Path
from typing import BinaryIO, Protocol

from vellum.errors import VellumError

CHUNK = 1 << 16
"""Bytes read at a time when a window is read in bulk."""


class Window(Protocol):
    """The lines of a run within one key range."""

    def lines(self, reverse: bool = False) -> Iterator[bytes]:
        """The lines, in ascending order (descending if `reverse`)."""

    def split(self, pivot: bytes) -> tuple[Window, Window]:
        """The lines below `pivot`, and those at or above it."""


class SortedRun(Protocol):
    """An immutable sorted run of CDXJ lines."""

    def window(self, start: bytes, end: bytes | None) -> Window | None:
        """The lines `start <= line < end` (`end` None: to the last line); None if surely empty."""


# --- plain segment files ---------------------------------------------------------------


class CdxjSegment:
    """A sorted CDXJ file, mapped into memory and searched by bisection on byte offsets."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            # mmap refuses empty files; an empty segment is simply a run with no lines.
            self._mm: mmap.mmap | bytes = mmap.mmap(fd, 0, access=mmap.ACCESS_READ) if size else b""
        finally:
            os.close(fd)
        self._size = size

    def window(self, start: bytes, end: bytes | None) -> Window | None:
        lo = _lower_bound(self._mm, start, 0, self._size)
        if lo >= self._size:
            return None
        if end is None:
            return _SegmentWindow(self._mm, lo, self._size)
        if self._mm[lo : lo + len(end)] >= end:  # the first line is already past the range
            return None
        return _SegmentWindow(self._mm, lo, _lower_bound(self._mm, end, lo, self._size))

    def close(self) -> None:
        if isinstance(self._mm, mmap.mmap):
            self._mm.close()


class _SegmentWindow:
    """Lines between two line-start offsets of a mapped segment."""

    def __init__(self, mm: mmap.mmap | bytes, lo: int, hi: int) -> None:
        self._mm, self._lo, self._hi = mm, lo, hi

    def lines(self, reverse: bool = False) -> Iterator[bytes]:
        if reverse:
            return _backward(self._mm, self._lo, self._hi)
        return _forward(self._mm, self._lo, self._hi)

    def split(self, pivot: bytes) -> tuple[Window, Window]:
        mid = _lower_bound(self._mm, pivot, self._lo, self._hi)
        return _SegmentWindow(self._mm, self._lo, mid), _SegmentWindow(self._mm, mid, self._hi)


def _lower_bound(mm: mmap.mmap | bytes, key: bytes, lo: int, hi: int) -> int:
    """Offset of the first line in `[lo, hi)` that is >= key (`hi` if none).

    `lo` and `hi` are line starts. Each step looks at the line around the midpoint;
    comparing only its first len(key) bytes decides the order (a shorter line that is a
    prefix of the key sorts before it).
    """
    width = len(key)
    while lo < hi:
        mid = (lo + hi) // 2
        newline = mm.rfind(b"\n", lo, mid)
        start = newline + 1 if newline >= 0 else lo
        if mm[start : start + width] < key:
            end = mm.find(b"\n", start, hi)
            lo = end + 1 if end >= 0 else hi
        else:
            hi = start
    return lo


def _forward(mm: mmap.mmap | bytes, lo: int, hi: int) -> Iterator[bytes]:
    """The lines in `[lo, hi)`, read a chunk at a time."""
    pos = lo
    while pos < hi:
        stop = min(hi, pos + CHUNK)
        if stop < hi:
            newline = mm.rfind(b"\n", pos, stop)
            if newline < 0:  # one line longer than a chunk
                newline = mm.find(b"\n", stop, hi)
            stop = newline + 1 if newline >= 0 else hi
        lines = mm[pos:stop].split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        yield from lines
        pos = stop


def _backward(mm: mmap.mmap | bytes, lo: int, hi: int) -> Iterator[bytes]:
    """The lines in `[lo, hi)`, last first."""
    pos = hi
    while pos > lo:
        begin = max(lo, pos - CHUNK)
        if begin > lo:
            # Start the chunk at a line start: just after a newline at or after begin - 1.
            newline = mm.find(b"\n", begin - 1, pos - 1)
            if newline < 0:  # one line longer than a chunk
                newline = mm.rfind(b"\n", lo, begin)
            begin = newline + 1 if newline >= 0 else lo
        lines = mm[begin:pos].split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        lines.reverse()
        yield from lines
        pos = begin


# --- lines in memory ---------------------------------------------------------------------


class MemoryRun:
    """Sorted lines held in a list: the entries of a WARC still being written."""

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines  # sorted, no duplicates

    def __len__(self) -> int:
        return len(self._lines)

    def all_lines(self) -> list[bytes]:
        return self._lines

    def window(self, start: bytes, end: bytes | None) -> Window | None:
        lo = bisect.bisect_left(self._lines, start)
        hi = len(self._lines) if end is None else bisect.bisect_left(self._lines, end, lo)
        return _ListWindow(self._lines, lo, hi) if lo < hi else None


class _ListWindow:
    def __init__(self, lines: list[bytes], lo: int, hi: int) -> None:
        self._all, self._lo, self._hi = lines, lo, hi

    def lines(self, reverse: bool = False) -> Iterator[bytes]:
        if reverse:
            return (self._all[i] for i in range(self._hi - 1, self._lo - 1, -1))
        return (self._all[i] for i in range(self._lo, self._hi))

    def split(self, pivot: bytes) -> tuple[Window, Window]:
        mid = bisect.bisect_left(self._all, pivot, self._lo, self._hi)
        return _ListWindow(self._all, self._lo, mid), _ListWindow(self._all, mid, self._hi)


class EmptyWindow:
    """A window with no lines."""

    def lines(self, reverse: bool = False) -> Iterator[bytes]:
        return iter(())

    def split(self, pivot: bytes) -> tuple[Window, Window]:
        return self, self


# --- runs with some WARCs' lines hidden ------------------------------------------------

_FILENAME = re.compile(rb'"filename": "((?:[^"\\]|\\.)*)"')


def filename_of(line: bytes) -> bytes:
    """The `filename` of a CDXJ line, still JSON-escaped (b"" if it has none)."""
    found = _FILENAME.search(line, line.find(b" {"))
    return found.group(1) if found else b""


class ExcludingRun:
    """A run without the lines of some WARC files (removed after the run was written)."""

    def __init__(self, run: SortedRun, hidden: frozenset[bytes]) -> None:
        self._run, self._hidden = run, hidden  # JSON-escaped file names

    def window(self, start: bytes, end: bytes | None) -> Window | None:
        inner = self._run.window(start, end)
        return None if inner is None else _ExcludingWindow(inner, self._hidden)


class _ExcludingWindow:
    def __init__(self, inner: Window, hidden: frozenset[bytes]) -> None:
        self._inner, self._hidden = inner, hidden

    def lines(self, reverse: bool = False) -> Iterator[bytes]:
        hidden = self._hidden
        return (ln for ln in self._inner.lines(reverse) if filename_of(ln) not in hidden)

    def split(self, pivot: bytes) -> tuple[Window, Window]:
        below, above = self._inner.split(pivot)
        return _ExcludingWindow(below, self._hidden), _ExcludingWindow(above, self._hidden)


# --- merging and writing -----------------------------------------------------------------


def merge_lines(streams: Sequence[Iterator[bytes]], reverse: bool = False) -> Iterator[bytes]:
    """Sorted streams merged into one, identical lines kept once."""
    if not streams:
        return
    merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, reverse=reverse)
    previous = None
    for line in merged:
        if line != previous:
            yield line
            previous = line


def write_lines(out: BinaryIO, lines: Iterable[bytes]) -> int:
    """Write lines with a newline after each; return how many."""
    count = 0
    source = iter(lines)
    while batch := list(itertools.islice(source, 8192)):
        out.write(b"\n".join(batch) + b"\n")
        count += len(batch)
    return count


def sorted_unique(lines: Iterable[bytes], buffer_lines: int, spill_dir: Path) -> Iterator[bytes]:
    """Lines sorted by raw bytes, duplicates dropped, in bounded memory.

    Up to `buffer_lines` are sorted in memory; more spill to sorted temporary files in
    `spill_dir`, merged at the end and removed.
    """
    with ExitStack() as stack:
        spills: list[Iterator[bytes]] = []
        buffer: list[bytes] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= buffer_lines:
                spills.append(_spill(sorted(buffer), spill_dir, stack))
                buffer = []
        buffer.sort()
        if not spills:
            yield from merge_lines([iter(buffer)])
            return
        spills.append(iter(buffer))
        yield from merge_lines(spills)


def _spill(lines: list[bytes], spill_dir: Path, stack: ExitStack) -> Iterator[bytes]:
    handle = stack.enter_context(tempfile.TemporaryFile(dir=spill_dir, prefix="sort-"))  # noqa: SIM115
    write_lines(handle, lines)
    handle.seek(0)
    return (line.rstrip(b"\n") for line in handle)


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the manifest: which runs are live ---------------------------------------------------

MANIFEST = "MANIFEST.json"
MANIFEST_FORMAT = "vellum-cdxj-index"


@dataclass
class RunEntry:
    """One live run as the manifest lists it.

    `warcs` are the WARC files with lines in the run; `hidden` those whose lines must be
    skipped (removed after the run was written; the next merge drops them for good).
    """

    name: str
    kind: str  # "cdxj" or "zipnum"
    lines: int
    size: int  # bytes on disk
    warcs: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)


@dataclass
class Manifest:
    """The live runs, and the WARC files whose entries they hold in full.

    `warcs` maps each sealed WARC file name to its size when it was indexed (-1 if it was
    not found in the WARC directory); recovery re-indexes a WARC whose size differs.
    """

    next_id: int = 1
    runs: list[RunEntry] = field(default_factory=list)
    warcs: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data = {
            "format": MANIFEST_FORMAT,
            "version": 1,
            "next_id": self.next_id,
            "runs": [asdict(run) for run in self.runs],
            "warcs": dict(sorted(self.warcs.items())),
        }
        return json.dumps(data, indent=1).encode() + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """Parse a manifest (ValueError if it is not one)."""
        try:
            data = json.loads(raw)
            if data.get("format") != MANIFEST_FORMAT:
                raise ValueError("not a Vellum index manifest")
            runs = [RunEntry(**run) for run in data["runs"]]
            return cls(int(data["next_id"]), runs, {k: int(v) for k, v in data["warcs"].items()})
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed index manifest: {exc}") from exc

    def hide(self, warc: str) -> list[RunEntry]:
        """Hide a WARC's lines in every run; return the runs left with no WARC at all."""
        emptied = []
        for run in self.runs:
            if warc in run.warcs:
                run.warcs.remove(warc)
                run.hidden.append(warc)
                if not run.warcs:
                    emptied.append(run)
        self.runs = [run for run in self.runs if run.warcs]
        return emptied


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest of an index directory; None if it has none yet."""
    try:
        raw = (directory / MANIFEST).read_bytes()
    except FileNotFoundError:
        return None
    try:
        return Manifest.from_json(raw)
    except ValueError as exc:
        raise VellumError(
            f"the index in {directory} is damaged ({exc}); rebuild it from the WARC files"
        ) from exc


# --- what a reader sees ------------------------------------------------------------------


class LiveRuns:
    """The runs a reader sees: the manifest's, and the entries of each WARC being written.

    Each call costs two `stat`s; the manifest is read again, and new runs opened, only
    when it or the directory changed, and a journal is read only as far as it grew.
    Runs a merge has replaced stay readable to queries already under way (their files
    are mapped, and unlinking does not unmap them).
    """

    def __init__(
        self, directory: Path, opener: Callable[[RunEntry], SortedRun], journal_suffix: str
    ) -> None:
        self._dir, self._opener, self._suffix = directory, opener, journal_suffix
        self._lock = threading.Lock()
        self._key: tuple[object, ...] = ()
        self._runs: tuple[SortedRun, ...] = ()
        self._opened: dict[tuple[str, tuple[str, ...]], SortedRun] = {}
        self._journals: dict[Path, tuple[tuple[int, int], int, MemoryRun]] = {}

    def current(self) -> tuple[SortedRun, ...]:
        with self._lock:
            key = (_stat_key(self._dir / MANIFEST), _stat_key(self._dir))
            if key != self._key:
                self._runs = self._load()
                self._key = key
                paths = (
                    {p for p in self._dir.iterdir() if p.name.endswith(self._suffix)}
                    if self._dir.is_dir()
                    else set()
                )
                self._journals = {p: self._journals.get(p, _UNREAD) for p in sorted(paths)}
            journals = (self._journal(path) for path in list(self._journals))
            return self._runs + tuple(run for run in journals if run is not None)

    def _load(self) -> tuple[SortedRun, ...]:
        for _attempt in range(10):
            try:
                m = read_manifest(self._dir)
                if m is None:
                    return self._legacy()
                keys = [(run.name, tuple(run.hidden)) for run in m.runs]
                opened = {
                    k: self._opened.get(k) or self._opener(r)
                    for k, r in zip(keys, m.runs, strict=True)
                }
                self._opened = opened
                return tuple(opened.values())
            except FileNotFoundError:
                continue  # a merge replaced a run between reading the manifest and opening it
        raise VellumError(f"the index in {self._dir} keeps changing; try again")

    def _legacy(self) -> tuple[SortedRun, ...]:
        """An index written before manifests existed: one sorted segment per WARC."""
        if not self._dir.is_dir():
            return ()
        return tuple(CdxjSegment(p) for p in sorted(self._dir.glob("*.cdxj")))

    def _journal(self, path: Path) -> MemoryRun | None:
        """A journal's complete lines, sorted."""
        seen, done, run = self._journals[path]
        try:
            st = path.stat()
        except FileNotFoundError:
            del self._journals[path]
            return None
        if (st.st_ino, st.st_size) == seen and st.st_size == done:
            return run if len(run) else None
        old = run.all_lines()
        if st.st_ino != seen[0] or st.st_size < done:  # a new file, or a cut-off tail
            done, old = 0, []
        with open(path, "rb") as f:
            f.seek(done)
            data = f.read(st.st_size - done)
        end = data.rfind(b"\n") + 1
        fresh = sorted(set(old).union(complete_lines(data[:end])))
        run = MemoryRun(fresh)
        self._journals[path] = ((st.st_ino, st.st_size), done + end, run)
        return run if fresh else None


_UNREAD: tuple[tuple[int, int], int, MemoryRun] = ((0, -1), 0, MemoryRun([]))


def complete_lines(data: bytes) -> list[bytes]:
    """The lines of a journal that end in a newline (a crash can cut off the last one)."""
    lines = data.split(b"\n")
    lines.pop()  # after the last newline: empty, or half a line
    return [line for line in lines if line]


def journal_lines(path: Path) -> Iterator[bytes]:
    """The complete lines of a journal, read a megabyte at a time."""
    with open(path, "rb") as f:
        rest = b""
        while chunk := f.read(1 << 20):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()  # half a line, or b""
            yield from (line for line in lines if line)


def last_line_end(f: BinaryIO) -> int:
    """The offset just after the file's last newline (0 if it has none)."""
    end = f.seek(0, os.SEEK_END)
    while end > 0:
        start = max(0, end - CHUNK)
        f.seek(start)
        newline = f.read(end - start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0


def open_journal(path: Path) -> BinaryIO | None:
    """A journal opened for appending, locked; None if another process holds it."""
    journal = open(path, "r+b" if path.exists() else "w+b")  # noqa: SIM115 - kept open
    try:
        fcntl.flock(journal.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        journal.close()
        return None
    # A crash may have left half a line at the end: cut it off before appending.
    journal.seek(last_line_end(journal))
    journal.truncate()
    return journal


def held_elsewhere(path: Path) -> bool:
    """Whether another process holds this journal (its WARC is being written)."""
    with open(path, "rb") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def stale_temp(name: str) -> bool:
    """Whether a `*.tmp-<pid>-<n>` file was left by a process that is gone (or by this one)."""
    pid = name.rsplit(".tmp-", 1)[1].split("-")[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def sync(f: BinaryIO) -> None:
    """Flush a file to disk."""
    f.flush()
    os.fsync(f.fileno())


def json_name(name: str) -> bytes:
    """A file name as it appears, JSON-escaped, in a CDXJ line."""
    return _json_str(name)[1:-1].encode()


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
