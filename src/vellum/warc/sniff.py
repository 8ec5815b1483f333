"""What kind of file this is: WARC or ARC, gzipped per record or not, or something else."""

from __future__ import annotations

import enum
import mmap
import zlib
from dataclasses import dataclass

from vellum.warc.careful import GZIP_MAGIC
from vellum.warc.headers import Buffer
from vellum.warc.record import MAX_HEAD, parse_record_head

__all__ = ["Kind", "Sniffed", "sniff"]

_SLACK = 64  # output past the first record's end that may only be blank lines


class Kind(enum.Enum):
    """The format of a file, as far as its first bytes tell."""

    WARC_GZ = "warc.gz"
    WARC = "warc"
    ARC_GZ = "arc.gz"
    ARC = "arc"
    EMPTY = "empty"
    OTHER = "other"


@dataclass(frozen=True)
class Sniffed:
    """A file's kind, and for gzipped files whether its first member holds several records.

    `whole_file_gzip` means the file was gzipped in one go (or its writer put several
    records in one member): offsets into it cannot address single records.
    """

    kind: Kind
    whole_file_gzip: bool = False

    @property
    def is_archive(self) -> bool:
        return self.kind in (Kind.WARC_GZ, Kind.WARC, Kind.ARC_GZ, Kind.ARC)


def sniff(buf: mmap.mmap | bytes) -> Sniffed:
    """Look at the start of a file (inflating at most its first record)."""
    if not len(buf):
        return Sniffed(Kind.EMPTY)
    if buf[:2] != GZIP_MAGIC:
        start = len(buf[:MAX_HEAD]) - len(buf[:MAX_HEAD].lstrip())
        head = parse_record_head(buf, start, min(len(buf), start + MAX_HEAD), partial=True)
        if head is None:
            return Sniffed(Kind.OTHER)
        return Sniffed(Kind.ARC if _is_arc(buf, start) else Kind.WARC)
    return _sniff_gzip(buf)


def _is_arc(data: Buffer, start: int) -> bool:
    return not data[start : start + 5].upper().startswith(b"WARC/")


def _sniff_gzip(buf: mmap.mmap | bytes) -> Sniffed:
    """Inflate the first member until its first record is past: is there more in it?"""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    pos = 0
    need: int | None = None
    kind: Kind | None = None
    try:
        while not d.eof and pos < len(buf):
            out += d.decompress(buf[pos : pos + 8192])
            pos += 8192
            if kind is None and (len(out) >= MAX_HEAD or b"\n\n" in out or b"\r\n\r\n" in out):
                start = len(out) - len(out.lstrip())
                head = parse_record_head(bytes(out), start, len(out), partial=True)
                if head is None:
                    return Sniffed(Kind.OTHER)
                kind = Kind.ARC_GZ if _is_arc(out, start) else Kind.WARC_GZ
                need = head.body_start + head.content_length
            if need is not None and len(out) > need + _SLACK:
                if bytes(out[need:]).strip():
                    return Sniffed(kind or Kind.WARC_GZ, whole_file_gzip=True)
                need = len(out)  # only blank lines so far: keep looking a little
    except zlib.error:
        pass
    if kind is None:
        start = len(out) - len(out.lstrip())
        head = parse_record_head(bytes(out), start, len(out), partial=True)
        if head is None:
            return Sniffed(Kind.OTHER)
        kind = Kind.ARC_GZ if _is_arc(out, start) else Kind.WARC_GZ
    return Sniffed(kind)
