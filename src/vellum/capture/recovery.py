"""After a crash: cut the torn tail off a `.open` WARC and say what the crawl had stored.

The crawler writes each URL as one group — response (or revisit), request, metadata —
with a single `write()`. A group is complete when its metadata record is; everything
after the last complete group is cut off (`truncate`), so no partial record is ever
indexed and the URL it belonged to is fetched again.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vellum.warc.writer import OPEN_SUFFIX

_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Member:
    """One gzip member of a WARC file: where it is, its WARC fields, its first bytes."""

    offset: int
    end: int
    fields: dict[str, str]
    block: bytes  # the start of the block (up to 64 KiB)

    @property
    def record_type(self) -> str:
        return self.fields.get("warc-type", "")


@dataclass
class StoredGroup:
    """A URL the crawl had completely stored before the crash."""

    url: str
    record_type: str  # response or revisit
    record_id: str
    date: str
    payload_digest: str
    status: int | None
    mime: str
    size: int
    path: str = ""  # hop path
    via: str = ""
    outlinks: list[tuple[str, str]] = field(default_factory=list)  # (url, hop letter)
    filename: str = ""  # where the response or revisit record is
    offset: int = 0


@dataclass
class Recovered:
    """What `recover_open_file` found and did."""

    path: Path  # the final name the file was renamed to (or that was deleted)
    groups: list[StoredGroup]
    cut_bytes: int  # torn tail removed
    deleted: bool = False


def members(path: Path, start: int = 0) -> Iterator[Member]:
    """The complete gzip members from `start`; stops at the first torn or corrupt one."""
    with open(path, "rb") as f:
        f.seek(start)
        pos = start
        buf = b""
        while True:
            if not buf:
                buf = f.read(1 << 20)
                if not buf:
                    return
            d = zlib.decompressobj(31)
            head = b""
            consumed = 0
            try:
                while True:
                    if len(head) < _HEAD_BYTES:
                        head += d.decompress(buf, _HEAD_BYTES - len(head))
                    else:
                        d.decompress(buf, 1 << 20)
                    while d.unconsumed_tail and not d.eof:
                        tail = d.unconsumed_tail
                        if len(head) < _HEAD_BYTES:
                            head += d.decompress(tail, _HEAD_BYTES - len(head))
                        else:
                            d.decompress(tail, 1 << 20)
                    if d.eof:
                        consumed += len(buf) - len(d.unused_data)
                        buf = d.unused_data
                        break
                    consumed += len(buf)
                    buf = f.read(1 << 20)
                    if not buf:
                        return  # torn: the file ends inside this member
            except zlib.error:
                return
            end = pos + consumed
            fields, block = _parse_head(head)
            if fields is None:
                return
            yield Member(pos, end, fields, block)
            pos = end


def _parse_head(data: bytes) -> tuple[dict[str, str] | None, bytes]:
    head, sep, block = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"WARC/"):
        return None, b""
    fields = {}
    for line in head.decode("utf-8", "replace").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return fields, block


def parse_metadata(block: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    """Hop path, via and outlinks from a crawler metadata record's warc-fields."""
    path, via, outlinks = "", "", []
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(": ")
        if name == "hopsFromSeed":
            path = value.strip()
        elif name == "via":
            via = value.strip()
        elif name == "outlink":
            url, _, letter = value.rpartition(" ")
            if url:
                outlinks.append((url, letter))
    return path, via, outlinks


def _group(response: Member, metadata: Member, filename: str) -> StoredGroup:
    f = response.fields
    status_line = response.block.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ")
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    mime = ""
    for line in response.block.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-type":
            mime = value.strip().split(";")[0].strip()
            break
    path, via, outlinks = parse_metadata(metadata.block)
    return StoredGroup(
        url=f.get("warc-target-uri", ""),
        record_type=response.record_type,
        record_id=f.get("warc-record-id", ""),
        date=f.get("warc-date", ""),
        payload_digest=f.get("warc-payload-digest", ""),
        status=status,
        mime=mime,
        size=int(f.get("content-length", "0") or 0),
        path=path,
        via=via,
        outlinks=outlinks,
        filename=filename,
        offset=response.offset,
    )


def scan_groups(path: Path, start: int = 0) -> tuple[list[StoredGroup], int, int]:
    """The complete groups from `start`, where the last one ends, where warcinfo ends."""
    groups: list[StoredGroup] = []
    good_end = start
    response: Member | None = None
    warcinfo_end = 0
    for m in members(path, start):
        kind = m.record_type
        if kind == "warcinfo":
            warcinfo_end = good_end = m.end
            response = None
        elif kind in ("response", "revisit"):
            response = m
        elif kind == "metadata" and response is not None:
            name = path.name.removesuffix(OPEN_SUFFIX)
            groups.append(_group(response, m, name))
            good_end = m.end
            response = None
    return groups, good_end, warcinfo_end


def recover_open_file(open_path: Path, start: int = 0) -> Recovered:
    """Cut `open_path` after its last complete group and rename it to its final name.

    `start` is a group boundary known to be durable (the last checkpoint); only the
    groups after it are returned. A file left with not even its warcinfo is deleted.
    """
    final = open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)])
    groups, good_end, warcinfo_end = scan_groups(open_path, start)
    size = open_path.stat().st_size
    if good_end == 0 or (start == 0 and warcinfo_end == 0):
        open_path.unlink()
        return Recovered(final, [], size, deleted=True)
    if good_end < size:
        with open(open_path, "r+b") as f:
            f.truncate(good_end)
            f.flush()
            os.fsync(f.fileno())
    os.replace(open_path, final)
    return Recovered(final, groups, size - good_end)
