"""The index store: sorted CDXJ segments, one per WARC file, kept in step with the WARCs."""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol, TextIO

from vellum.index.cdxj import Capture
from vellum.index.indexer import index_warc
from vellum.urls.surt import surt

SEGMENT_SUFFIX = ".cdxj"
OPEN_SUFFIX = ".cdxj.open"


class IndexStore(Protocol):
    """What capture writes to and replay reads from."""

    def append(self, warc_filename: str, captures: Iterable[Capture]) -> None:
        """Record captures as soon as their WARC records are on disk."""

    def seal(self, warc_filename: str) -> None:
        """The WARC file is complete: make its entries a sorted segment."""

    def captures(self, url: str) -> list[Capture]:
        """Every capture whose key equals `url`'s, oldest first."""

    def all(self) -> Iterator[Capture]:
        """Every capture, in index order."""


class CdxjIndex:
    """CDXJ segments in a directory: `<warc>.cdxj` sorted, `<warc>.cdxj.open` while writing.

    An entry is appended (and flushed) right after its record is written, so a crash
    loses at most the entries of the last records; `recover()` rebuilds any segment that
    does not match its WARC file from the WARC itself.
    """

    def __init__(self, directory: Path, warc_dir: Path) -> None:
        self._dir = directory
        self._warc_dir = warc_dir
        self._open: dict[str, TextIO] = {}
        self._cache_key: tuple[tuple[str, float, int], ...] = ()
        self._cache: list[Capture] = []
        self._keys: list[tuple[str, str]] = []

    # writing

    def append(self, warc_filename: str, captures: Iterable[Capture]) -> None:
        out = self._open.get(warc_filename)
        if out is None:
            self._dir.mkdir(parents=True, exist_ok=True)
            out = open(self._dir / (warc_filename + OPEN_SUFFIX), "a", encoding="utf-8")  # noqa: SIM115
            self._open[warc_filename] = out
        for capture in captures:
            out.write(capture.to_line() + "\n")
        out.flush()

    def seal(self, warc_filename: str) -> None:
        out = self._open.pop(warc_filename, None)
        if out is not None:
            out.close()
        log = self._dir / (warc_filename + OPEN_SUFFIX)
        if log.exists():
            lines = log.read_text(encoding="utf-8").splitlines()
            self._write_segment(warc_filename, lines)
            log.unlink()

    def close(self) -> None:
        for name in list(self._open):
            self.seal(name)

    def recover(self) -> list[str]:
        """Bring every segment in line with its WARC file; return the WARC names re-indexed."""
        self.close()
        fixed = []
        warcs = (
            {p.name: p for p in self._warc_dir.glob("*.warc*")} if self._warc_dir.exists() else {}
        )
        for log in self._dir.glob("*" + OPEN_SUFFIX) if self._dir.exists() else []:
            log.unlink()
        for name, path in sorted(warcs.items()):
            segment = self._dir / (name + SEGMENT_SUFFIX)
            if segment.exists() and segment.stat().st_mtime >= path.stat().st_mtime:
                continue
            lines = [c.to_line() for c in index_warc(path)]
            self._write_segment(name, lines)
            fixed.append(name)
        return fixed

    def _write_segment(self, warc_filename: str, lines: list[str]) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        final = self._dir / (warc_filename + SEGMENT_SUFFIX)
        tmp = final.with_suffix(".tmp")
        # Sort by raw bytes, as `LC_ALL=C sort` does, never by locale.
        data = "".join(line + "\n" for line in sorted(set(lines), key=lambda s: s.encode()))
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)

    # reading

    def captures(self, url: str) -> list[Capture]:
        self._load()
        key = surt(url)
        lo = bisect.bisect_left(self._keys, (key, ""))
        hi = bisect.bisect_right(self._keys, (key, "\uffff"))
        return self._cache[lo:hi]

    def all(self) -> Iterator[Capture]:
        self._load()
        return iter(self._cache)

    def _files(self) -> list[Path]:
        if not self._dir.exists():
            return []
        return sorted(
            p for p in self._dir.iterdir() if p.name.endswith((SEGMENT_SUFFIX, OPEN_SUFFIX))
        )

    def _load(self) -> None:
        files = self._files()
        key = tuple((p.name, p.stat().st_mtime, p.stat().st_size) for p in files)
        if key == self._cache_key:
            return
        captures: list[Capture] = []
        for path in files:
            with open(path, encoding="utf-8") as f:
                captures.extend(Capture.from_line(line) for line in f if line.strip())
        captures.sort(key=lambda c: (c.urlkey.encode(), c.timestamp, c.filename, c.offset))
        self._cache = captures
        self._keys = [(c.urlkey, c.timestamp) for c in captures]
        self._cache_key = key


def merged_lines(index: CdxjIndex) -> Iterator[str]:
    """The whole index as sorted CDXJ lines (what `vellum` exports as one file)."""
    for capture in index.all():
        yield capture.to_line()
