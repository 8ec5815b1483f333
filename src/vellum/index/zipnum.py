"""ZipNum: sorted CDXJ cut into blocks, each block one gzip member, plus a summary index.

Two summary forms are written and read:

- pywb's (`<name>.idx` + `<name>.loc`): one tab-separated line per block,
  `<urlkey> <timestamp>\\t<part>\\t<offset>\\t<length>\\t<block number from 1>`, where the
  key is the block's first line's and the `.loc` file maps the part name to the
  `.cdx.gz` file (pywb's `ZipNumIndexSource` reads exactly this);
- WACZ's (`index.idx` for `index.cdx.gz`): a first line
  `!meta 0 {"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}`, then one line per
  block, `<urlkey> <timestamp> {"offset": N, "length": M}`.

Vellum's own shards add a `<name>.ends` file, one line per block with the key and
timestamp of the block's *last* line, so that a lookup does not have to inflate the
block before the one where its key starts (pywb ignores the file).
"""

from __future__ import annotations

import bisect
import itertools
import json
import mmap
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from vellum.index.segments import EmptyWindow, Window

IdxFlavour = Literal["pywb", "wacz"]
BLOCK_LINES = 3000
"""Lines per block, as pywb's and the Internet Archive's tools write them."""

WACZ_FORMAT = "cdxj-gzip-1.0"
_INFLATE_CHUNK = 1 << 14
_CACHED_BLOCKS = 8


@dataclass(frozen=True)
class ZipNumWritten:
    """What `write_zipnum` wrote."""

    lines: int
    blocks: int
    cdx_bytes: int


def write_zipnum(
    lines: Iterable[bytes],
    cdx_out: BinaryIO,
    idx_out: BinaryIO,
    *,
    part: str,
    flavour: IdxFlavour = "pywb",
    block_lines: int = BLOCK_LINES,
    level: int = 6,
    ends_out: BinaryIO | None = None,
) -> ZipNumWritten:
    """Write sorted lines as gzip blocks to `cdx_out` and their summary to `idx_out`.

    `part` is the shard's name in a pywb summary (the `.loc` file maps it to a path), or
    the `.cdx.gz` file name that the WACZ `!meta` line gives.
    """
    if block_lines < 1:
        raise ValueError("block_lines must be at least 1")
    if flavour == "wacz":
        meta = json.dumps({"format": WACZ_FORMAT, "filename": part})
        idx_out.write(f"!meta 0 {meta}\n".encode())
    offset = count = blocks = 0
    block: list[bytes] = []

    def flush() -> None:
        nonlocal offset, blocks
        member = zlib.compress(b"\n".join(block) + b"\n", level, wbits=31)
        cdx_out.write(member)
        blocks += 1
        first = _key_ts(block[0])
        if flavour == "wacz":
            where = json.dumps({"offset": offset, "length": len(member)}).encode()
            idx_out.write(first + b" " + where + b"\n")
        else:
            fields = (part.encode(), str(offset).encode(), str(len(member)).encode())
            idx_out.write(first + b"\t" + b"\t".join(fields) + b"\t%d\n" % blocks)
        if ends_out is not None:
            ends_out.write(_key_ts(block[-1]) + b"\n")
        offset += len(member)

    for line in lines:
        block.append(line)
        count += 1
        if len(block) == block_lines:
            flush()
            block = []
    if block:
        flush()
    return ZipNumWritten(lines=count, blocks=blocks, cdx_bytes=offset)


def write_shard(
    lines: Iterable[bytes], files: Mapping[str, Path], part: str, block_lines: int
) -> int:
    """Write a pywb-form shard to `files[".cdx.gz"]`, `[".idx"]`, `[".ends"]`, synced."""
    with (
        open(files[".cdx.gz"], "wb") as cdx,
        open(files[".idx"], "wb") as idx,
        open(files[".ends"], "wb") as ends,
    ):
        written = write_zipnum(lines, cdx, idx, part=part, block_lines=block_lines, ends_out=ends)
        for f in (cdx, idx, ends):
            f.flush()
            os.fsync(f.fileno())
    return written.lines


def write_loc(loc_out: BinaryIO, part: str, cdx_filename: str) -> None:
    """pywb's `.loc` file: where the shard named `part` is (relative to the `.loc` file)."""
    loc_out.write(f"{part}\t{cdx_filename}\n".encode())


def _key_ts(line: bytes) -> bytes:
    """`<urlkey> <timestamp>` of a CDXJ line."""
    fields = line.split(b" ", 2)
    return b" ".join(fields[:2])


class ZipNumRun:
    """A ZipNum index opened for lookups: a sorted run whose lines live in gzip blocks.

    The summary is held in memory (one entry per block: a few hundred kilobytes for a
    billion captures); the `.cdx.gz` files are mapped and only the blocks a lookup needs
    are inflated, a chunk at a time, stopping as soon as the range is read.
    """

    def __init__(
        self,
        idx_path: Path,
        parts: Mapping[str, Path] | None = None,
        ends_path: Path | None = None,
    ) -> None:
        self._firsts: list[bytes] = []
        self._where: list[tuple[int, int, int]] = []  # (part number, offset, length)
        self._maps: list[mmap.mmap] = []
        self._cache: OrderedDict[int, _Block] = OrderedDict()
        self._lock = threading.Lock()
        part_numbers: dict[str, int] = {}
        locations = dict(parts) if parts is not None else _read_loc(idx_path)
        meta_filename = ""
        with open(idx_path, "rb") as f:
            for raw in f:
                line = raw.rstrip(b"\r\n")
                if line.startswith(b"!meta"):
                    meta = json.loads(line[line.index(b"{") :])
                    meta_filename = str(meta.get("filename", ""))
                    continue
                if not line:
                    continue
                key, part, offset, length = _parse_idx_line(line, meta_filename)
                if part not in part_numbers:
                    path = locations.get(part) or idx_path.parent / part
                    part_numbers[part] = len(self._maps)
                    self._maps.append(_map(path))
                self._firsts.append(key)
                self._where.append((part_numbers[part], offset, length))
        self._uppers: list[bytes] | None = None
        if ends_path is not None and ends_path.exists():
            ends = ends_path.read_bytes().split(b"\n")[: len(self._firsts)]
            if len(ends) == len(self._firsts):
                # A block can hold a line >= start only if its last line can be >= start.
                self._uppers = [end + b" \xff" for end in ends]

    @property
    def blocks(self) -> int:
        return len(self._firsts)

    def window(self, start: bytes, end: bytes | None) -> Window | None:
        first, stop = self._block_range(start, end)
        return _ZipWindow(self, start, end, first, stop) if first < stop else None

    def close(self) -> None:
        for m in self._maps:
            m.close()

    def _block_range(self, start: bytes, end: bytes | None) -> tuple[int, int]:
        """Blocks `[first, stop)` that may hold lines in `[start, end)`."""
        if self._uppers is not None:
            first = bisect.bisect_left(self._uppers, start)
        else:
            first = max(0, bisect.bisect_left(self._firsts, start) - 1)
        stop = len(self._firsts) if end is None else bisect.bisect_left(self._firsts, end)
        return first, stop

    def _compressed(self, block: int) -> bytes:
        part, offset, length = self._where[block]
        return self._maps[part][offset : offset + length]

    def block(self, number: int) -> _Block:
        """A block, inflated as far as lookups have needed (kept in a small cache)."""
        with self._lock:
            found = self._cache.get(number)
            if found is None:
                found = self._cache[number] = _Block(self._compressed(number))
                if len(self._cache) > _CACHED_BLOCKS:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(number)
            return found

    def reach(self, block: _Block, key: bytes | None) -> None:
        """Inflate until the block holds a line >= key (all of it if key is None)."""
        with self._lock:
            block.reach(key)

    def extend(self, block: _Block) -> bool:
        """Inflate one more chunk of the block; False if it was complete."""
        with self._lock:
            return block.more()


class _Block:
    """One gzip block, inflated a chunk at a time: what is read stays for the next reader.

    A lookup only inflates a block up to the lines it needs; a "closest" lookup's two
    walks (back from the pivot, and on from it) share the work.
    """

    def __init__(self, compressed: bytes) -> None:
        self._inflater = zlib.decompressobj(wbits=31)
        self._pending = compressed
        self._rest = b""
        self.lines: list[bytes] = []
        self.done = False

    def more(self) -> bool:
        if self.done:
            return False
        out = self._inflater.decompress(self._pending, _INFLATE_CHUNK)
        self._pending = self._inflater.unconsumed_tail
        if not self._pending:
            out += self._inflater.flush()
            self.done = True
        lines = (self._rest + out).split(b"\n")
        self._rest = lines.pop()
        if self.done and self._rest:
            lines.append(self._rest)
        self.lines.extend(lines)
        return True

    def reach(self, key: bytes | None) -> None:
        while not self.done and (key is None or not self.lines or self.lines[-1] < key):
            self.more()


class _ZipWindow:
    def __init__(
        self, run: ZipNumRun, start: bytes, end: bytes | None, first: int, stop: int
    ) -> None:
        self._run, self._start, self._end = run, start, end
        self._first, self._stop = first, stop

    def lines(self, reverse: bool = False) -> Iterator[bytes]:
        return self._backward() if reverse else self._forward()

    def split(self, pivot: bytes) -> tuple[Window, Window]:
        return self._sub(self._start, pivot), self._sub(pivot, self._end)

    def _sub(self, start: bytes, end: bytes | None) -> Window:
        window = self._run.window(start, end)
        return window if window is not None else EmptyWindow()

    def _forward(self) -> Iterator[bytes]:
        run, start, end = self._run, self._start, self._end
        skipping = True
        for number in range(self._first, self._stop):
            block = run.block(number)
            i = 0
            if skipping:
                run.reach(block, start)
                i = bisect.bisect_left(block.lines, start)
                if i == len(block.lines):
                    continue
                skipping = False
            while True:
                lines = block.lines
                known = len(lines)  # another thread may be extending it
                for line in itertools.islice(lines, i, known):
                    if end is not None and line >= end:
                        return
                    yield line
                i = known
                if not run.extend(block) and i == len(block.lines):
                    break

    def _backward(self) -> Iterator[bytes]:
        run, start, end = self._run, self._start, self._end
        for number in range(self._stop - 1, self._first - 1, -1):
            block = run.block(number)
            run.reach(block, end)
            lines = block.lines
            hi = len(lines) if end is None else bisect.bisect_left(lines, end)
            lo = bisect.bisect_left(lines, start, 0, hi)
            for i in range(hi - 1, lo - 1, -1):
                yield lines[i]
            if lo > 0:
                return


def _parse_idx_line(line: bytes, meta_filename: str) -> tuple[bytes, str, int, int]:
    """(first key, part, offset, length) of one summary line, in either form."""
    if b"\t" in line:
        fields = line.split(b"\t")
        if len(fields) < 4:
            raise ValueError(f"not a ZipNum summary line: {line[:200]!r}")
        return fields[0], fields[1].decode(), int(fields[2]), int(fields[3])
    brace = line.find(b" {")
    if brace < 0:
        raise ValueError(f"not a ZipNum summary line: {line[:200]!r}")
    data = json.loads(line[brace + 1 :])
    part = str(data.get("filename") or meta_filename)
    return line[:brace], part, int(data["offset"]), int(data["length"])


def _read_loc(idx_path: Path) -> dict[str, Path]:
    """pywb's `.loc` file next to the summary, if there is one: part name → path."""
    loc = idx_path.with_suffix(".loc")
    found: dict[str, Path] = {}
    if loc.exists():
        for line in loc.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            for candidate in fields[1:]:
                path = loc.parent / candidate
                if "://" not in candidate and path.exists():
                    found.setdefault(fields[0], path)
    return found


def _map(path: Path) -> mmap.mmap:
    fd = os.open(path, os.O_RDONLY)
    try:
        return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
