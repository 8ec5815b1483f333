"""The careful reader: WARC and ARC records read in Python, every bad spot found and passed.

It reads uncompressed files (through an mmap) and, a gzip member at a time, compressed
ones — the whole file when it is uncompressed or an ARC file, and for `.warc.gz` files
only the stretches where the fast reader (fastwarc) meets something wrong. It knows
where each record begins and ends the way warcio does (pywb's indexes count offsets and
lengths that way), and after anything it cannot read — garbage, a truncated or corrupt
gzip member, a Content-Length that does not fit — it reports the spot and goes on from
the next place where a record starts.
"""

from __future__ import annotations

import mmap
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from vellum.warc.entry import Entry, Problem
from vellum.warc.record import MAX_HEAD, Head, complete_entry, parse_record_head

__all__ = ["GZIP_MAGIC", "MemberScan", "find_member", "inflate_member", "scan_plain"]

GZIP_MAGIC = b"\x1f\x8b"
_MEMBER_START = b"\x1f\x8b\x08"
_CHUNK = 1 << 16
_KEEP = 1 << 16  # bytes kept after a block to see what follows it


# --- uncompressed files ---------------------------------------------------------------


def scan_plain(buf: mmap.mmap | bytes, start: int = 0) -> Iterator[Entry | Problem]:
    """Every record of an uncompressed WARC or ARC file, and every bad spot in it."""
    size = len(buf)
    pos = _skip_blank(buf, start, size)
    while pos < size:
        head = parse_record_head(buf, pos, min(size, pos + MAX_HEAD))
        if head is None:
            nxt = find_head(buf, pos + 1, size)
            yield Problem(pos, _garbage(nxt - pos, "where a record should start"))
            pos = nxt
            continue
        if head.bad_length is not None:
            nxt = find_head(buf, head.body_start, size)
            yield Problem(pos, f"skipped a record with a bad Content-Length {head.bad_length!r}")
            pos = nxt
            continue
        block_end = head.body_start + head.content_length
        after = _next_record(buf, block_end, size) if block_end <= size else -1
        if after < 0:
            # What follows the block is not the start of a record (or the file ends first):
            # either the Content-Length is too long, or there is junk after the block.
            nxt = find_head(buf, head.body_start, size)
            if block_end > size and nxt >= size:
                # The file ends inside the block: index what is there, as warcio does.
                yield complete_entry(buf, head, pos, size - pos, size)
                yield Problem(pos, _truncated(head, size - head.body_start))
                return
            if nxt < block_end:
                yield Problem(
                    pos,
                    f"skipped a record whose Content-Length ({head.content_length}) "
                    f"runs into the next record, at offset {nxt}",
                )
                pos = nxt
                continue
            junk = _skip_blank(buf, block_end, nxt)
            yield complete_entry(buf, head, pos, block_end - pos, block_end)
            count = len(buf[junk:nxt].rstrip())
            yield Problem(junk, _garbage(count, "after a record (wrong Content-Length?)"))
            pos = nxt
            continue
        yield complete_entry(buf, head, pos, block_end - pos, block_end)
        pos = after


def _skip_blank(buf: mmap.mmap | bytes, pos: int, end: int) -> int:
    """The start of the first non-blank line at or after `pos` (or `end`)."""
    while pos < end:
        nl = buf.find(b"\n", pos, end)
        stop = end if nl < 0 else nl + 1
        if buf[pos:stop].strip():
            return pos
        pos = stop
    return end


def _next_record(buf: mmap.mmap | bytes, block_end: int, size: int) -> int:
    """Where the next record starts after a block, or -1 if something else comes first."""
    pos = _skip_blank(buf, block_end, size)
    if pos >= size:
        return size
    return pos if parse_record_head(buf, pos, min(size, pos + MAX_HEAD)) is not None else -1


def find_head(buf: mmap.mmap | bytes, start: int, end: int) -> int:
    """The start of the first line at or after `start` that begins a record (or `end`)."""
    pos = start
    while pos < end:
        if pos and buf[pos - 1 : pos] != b"\n":
            nl = buf.find(b"\n", pos, end)
            if nl < 0:
                return end
            pos = nl + 1
            continue
        if parse_record_head(buf, pos, min(end, pos + MAX_HEAD)) is not None:
            return pos
        nl = buf.find(b"\n", pos, end)
        if nl < 0:
            return end
        pos = nl + 1
    return end


# --- gzip members ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """One gzip member, inflated: where it starts and ends in the file, what it holds."""

    start: int
    end: int
    data: bytes
    error: str | None  # why it could not be inflated (then `data` is what came out)


def inflate_member(buf: mmap.mmap | bytes, start: int, limit: int | None = None) -> Member:
    """Inflate the gzip member at `start` (keeping at most `limit` bytes of its output)."""
    size = len(buf)
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out: list[bytes] = []
    kept = 0
    pos = start
    try:
        while not d.eof and pos < size:
            chunk = buf[pos : pos + _CHUNK]
            pos += len(chunk)
            data = d.decompress(chunk)
            if limit is None or kept < limit:
                out.append(data)
                kept += len(data)
    except zlib.error as exc:
        return Member(start, pos, b"".join(out), f"corrupt gzip member ({_zlib_reason(exc)})")
    if not d.eof:
        return Member(start, size, b"".join(out), "truncated gzip member (the file ends in it)")
    return Member(start, pos - len(d.unused_data), b"".join(out), None)


def _zlib_reason(exc: zlib.error) -> str:
    text = str(exc)
    return text.split(": ", 1)[-1] if ": " in text else text


def find_member(buf: mmap.mmap | bytes, start: int) -> int:
    """The next offset at or after `start` where a gzip member holding a record begins."""
    size = len(buf)
    pos = start
    while True:
        pos = buf.find(_MEMBER_START, pos)
        if pos < 0:
            return size
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            peek = d.decompress(buf[pos : pos + 4096], 4096)
        except zlib.error:
            peek = b""
        if peek and parse_record_head(peek, 0, len(peek), partial=True) is not None:
            return pos
        pos += 1


class MemberScan:
    """Read gzip members from `start` carefully; `resume_at` says where fast reading can go on.

    Iterating yields entries and problems. With `until_clean`, the scan stops after the
    first record that was read without any problem once a problem was met (or at once if
    the first member is clean), leaving `resume_at` at the next member.
    """

    def __init__(self, buf: mmap.mmap | bytes, start: int, until_clean: bool = False) -> None:
        self._buf = buf
        self._start = start
        self._until_clean = until_clean
        self.resume_at = len(buf)

    def __iter__(self) -> Iterator[Entry | Problem]:
        buf, size = self._buf, len(self._buf)
        pos = self._start
        troubled = False
        while pos < size:
            if buf[pos : pos + 2] != GZIP_MAGIC:
                nxt = find_member(buf, pos)
                if buf[pos:nxt].strip():
                    yield Problem(pos, _garbage(nxt - pos, "between gzip members"))
                    troubled = True
                pos = nxt
                continue
            member = inflate_member(buf, pos, limit=MAX_HEAD + _KEEP)
            if member.error is not None:
                yield Problem(pos, member.error)
                troubled = True
                pos = find_member(buf, pos + 1)
                continue
            result = self._record(member)
            problems = [item for item in result if isinstance(item, Problem)]
            yield from result
            end = result[-1].offset + result[-1].length if isinstance(result[-1], Entry) else 0
            pos = max(member.end, end)
            troubled = troubled or bool(problems)
            if self._until_clean and not problems and isinstance(result[-1], Entry):
                self.resume_at = pos
                return
        self.resume_at = size

    def _record(self, member: Member) -> list[Entry | Problem]:
        """The entry (and any problems) of the record that starts in `member`."""
        buf = self._buf
        data = member.data
        lead = len(data[:MAX_HEAD]) - len(data[:MAX_HEAD].lstrip())  # blank lines first
        head = parse_record_head(data, lead, min(len(data), lead + MAX_HEAD))
        if head is None:
            if not data.strip():
                return [Problem(member.start, "empty gzip member")]
            return [Problem(member.start, "gzip member that holds no WARC or ARC record")]
        if head.bad_length is not None:
            reason = f"skipped a record with a bad Content-Length {head.bad_length!r}"
            return [Problem(member.start, reason)]
        need = head.body_start + head.content_length
        end = member.end
        full = member.data
        if need > len(full) or len(full) >= MAX_HEAD + _KEEP:
            # Read the whole record: its block may go on in the next members (as in files
            # whose writer cut records into several members), or be larger than kept.
            full, end, error = _inflate_record(buf, member, need)
            if error is not None:
                return [Problem(member.start, error)]
            if len(full) < need:
                # Index what the member holds, as warcio does, and say what is missing.
                entry = complete_entry(full, head, member.start, end - member.start, len(full))
                return [entry, Problem(member.start, _truncated(head, len(full) - head.body_start))]
        entry = complete_entry(full, head, member.start, end - member.start, need)
        trailer = full[need : need + _KEEP]
        if not trailer.strip():
            return [entry]
        inner = find_head(trailer, 0, len(trailer))
        if inner < len(trailer):
            reason = (
                "gzip member holds more than one record; only the first is indexed "
                "(recompress the file with 'warcio recompress IN OUT')"
            )
            return [entry, Problem(member.start, reason)]
        junk = len(trailer) - len(trailer.lstrip())
        reason = _garbage(len(full) - need - junk, "after the record in its gzip member")
        return [entry, Problem(member.start, reason + " (wrong Content-Length?)")]


def _inflate_record(
    buf: mmap.mmap | bytes, member: Member, need: int
) -> tuple[bytes, int, str | None]:
    """The output of `member` and of the members after it until `need` bytes are there."""
    first = inflate_member(buf, member.start)
    parts = [first.data]
    have = len(first.data)
    end = first.end
    size = len(buf)
    while have < need and end < size and buf[end : end + 2] == GZIP_MAGIC:
        nxt = inflate_member(buf, end)
        if nxt.error is not None or parse_record_head(nxt.data, 0, len(nxt.data)) is not None:
            break
        parts.append(nxt.data)
        have += len(nxt.data)
        end = nxt.end
    return b"".join(parts), end, None


def _garbage(count: int, where: str) -> str:
    unit = "byte" if count == 1 else "bytes"
    return f"skipped {count} {unit} of garbage {where}"


def _truncated(head: Head, have: int) -> str:
    return (
        f"truncated record: its Content-Length is {head.content_length} but only "
        f"{max(have, 0)} bytes are there (indexed as it is)"
    )
