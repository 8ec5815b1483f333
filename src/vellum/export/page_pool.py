"""The lines of `pages/pages.jsonl`, made in worker processes while the package is written.

Reading a page's title and text is the costly part of a package. The tasks noted
(`PageTasks`) are sorted by source file and offset and cut into groups of one file
each; a worker takes a group and reads the file once, front to back, picking the
records wanted as they pass (or, where the pages are few and far apart, reads just
those records). Each group's lines go to a file of their own; `write` copies them
into the package in order, once every worker is done. Memory does not grow with the
package: a worker holds one group of at most `GROUP_TASKS` tasks, the tasks are sorted
in bounded memory, and lines go through files.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import IO

from fastwarc.warc import ArchiveIterator

from vellum.export.pages import PageTasks, entry_of_record, page_entry, parse_task
from vellum.index.cdxj import Capture
from vellum.index.segments import sorted_unique
from vellum.warc.reader import _archived, sniff_file
from vellum.warc.sniff import Kind

__all__ = ["GROUP_TASKS", "PagePool", "pages_of_group"]

GROUP_TASKS = 20_000
"""Tasks given to a worker at once, at most."""
SPARSE_BYTES = 256 * 1024
"""Bytes of file per page above which a group's records are read one by one."""
INLINE_TASKS = 64
"""Fewer tasks than this are done in this process, without workers."""
_CHUNK = 1 << 20

Listing = tuple[Capture, str, str]  # the capture read, the URL and time it is listed under


class PagePool:
    """Hands groups of page tasks to worker processes; writes their lines in order."""

    def __init__(
        self, work: Path, text: bool, workers: int | None = None, sort_buffer_lines: int = 250_000
    ) -> None:
        self._work = work
        self._text = text
        self._workers = workers or os.cpu_count() or 1
        self._buffer = sort_buffer_lines
        self._pool: Pool | None = None
        self._groups: list[tuple[Path, Path, AsyncResult[int] | None]] = []
        self.count = 0

    def submit(self, tasks: PageTasks) -> None:
        """Sort the tasks noted into groups and start on them (in workers if many)."""
        use_pool = self._workers > 1 and tasks.count >= INLINE_TASKS
        for task_path in self._split(tasks):
            out_path = task_path.with_suffix(".jsonl")
            result = None
            if use_pool:
                result = self._start().apply_async(
                    pages_of_group, (str(task_path), str(out_path), self._text)
                )
            self._groups.append((task_path, out_path, result))
        tasks.path.unlink(missing_ok=True)

    def finish(self) -> int:
        """Wait for every group (doing here those not given to workers); the bytes of
        lines made, for the ZIP entry's size. The number of pages is then in `count`."""
        size = 0
        for task_path, out_path, result in self._groups:
            if result is None:
                self.count += pages_of_group(str(task_path), str(out_path), self._text)
            else:
                self.count += result.get()
            task_path.unlink(missing_ok=True)
            size += out_path.stat().st_size
        return size

    def write(self, write: Callable[[bytes], object]) -> None:
        """Every group's lines, in the order submitted (after `finish`)."""
        for _, out_path, _ in self._groups:
            with open(out_path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    write(chunk)
            out_path.unlink()
        self._groups = []

    def close(self) -> None:
        """Stop the workers (at once: anything unfinished is not wanted any more)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def _start(self) -> Pool:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            self._pool = context.Pool(self._workers)
        return self._pool

    def _split(self, tasks: PageTasks) -> Iterator[Path]:
        """Task files of one source file and at most GROUP_TASKS tasks each, in order."""
        out: IO[bytes] | None = None
        current, in_group = b"", 0
        try:
            for line in sorted_unique(tasks.tasks(), self._buffer, self._work):
                number = line[:8]
                if out is None or number != current or in_group >= GROUP_TASKS:
                    if out is not None:
                        out.close()
                        yield Path(out.name)
                    path = self._work / f"pages-{len(self._groups):06d}-{number.decode()}.tasks"
                    out = open(path, "wb")  # noqa: SIM115
                    current, in_group = number, 0
                out.write(line + b"\n")
                in_group += 1
            if out is not None:
                out.close()
                yield Path(out.name)
                out = None
        finally:
            if out is not None:
                out.close()


def pages_of_group(task_path: str, out_path: str, text: bool) -> int:
    """Write the page lines of one group of tasks (one source file); returns how many."""
    warc: Path | None = None
    wanted: dict[int, list[Listing]] = {}
    with open(task_path, "rb") as f:
        for line in f:
            name, capture, url, timestamp = parse_task(line.rstrip(b"\n"))
            warc = warc or Path(name)  # one file per group
            wanted.setdefault(capture.offset, []).append((capture, url, timestamp))
    count = 0
    if warc is None:
        Path(out_path).write_bytes(b"")
        return 0
    with open(out_path, "wb") as out:
        if _streams(warc, wanted):
            count += _stream(warc, wanted, out, text)
        for listings in wanted.values():  # left: read one by one
            for capture, url, timestamp in listings:
                out.write(page_entry(capture, warc, url, timestamp, text).encode() + b"\n")
                count += 1
    return count


def _streams(warc: Path, wanted: dict[int, list[Listing]]) -> bool:
    """Whether to read the file front to back: a WARC file with pages close together."""
    offsets = wanted.keys()
    spread = max(offsets) - min(offsets)
    if spread > SPARSE_BYTES * len(wanted):
        return False
    return sniff_file(warc).kind in (Kind.WARC, Kind.WARC_GZ)


def _stream(warc: Path, wanted: dict[int, list[Listing]], out: IO[bytes], text: bool) -> int:
    """Read the file from the first offset wanted to the last, writing the lines of the
    records wanted and taking them out of `wanted`; what is left was not met."""
    count = 0
    last = max(wanted)
    try:
        with open(warc, "rb") as f:
            f.seek(min(wanted))
            for record in ArchiveIterator(f, parse_http=True, auto_decode="transfer"):
                position = record.stream_pos
                if position > last:
                    break
                listings = wanted.pop(position, None)
                if listings is None:
                    continue
                archived = _archived(record)
                for capture, url, timestamp in listings:
                    line = entry_of_record(archived, capture, url, timestamp, text)
                    out.write(line.encode() + b"\n")
                    count += 1
                if not wanted:
                    break
    except OSError:
        pass  # a damaged stretch: the records not met are read one by one
    return count
