"""HTTP Range requests (RFC 9110 §14) over a payload held in memory.

Only `bytes` ranges. A syntactically bad `Range` is ignored (the whole payload, 200), as
the RFC says; ranges none of which overlap the payload get 416 with
`Content-Range: bytes */<size>`; one range gets a 206 with `Content-Range`; several get a
206 `multipart/byteranges`. `If-Range` is honoured the only way it can be without a
validator of ours: any `If-Range` gets the whole payload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "MAX_RANGES",
    "ByteRange",
    "RangeAnswer",
    "Unsatisfiable",
    "multipart_body",
    "parse_range",
]

MAX_RANGES = 16  # more ranges than this in one request get the whole payload instead
_SPEC = re.compile(r"^\s*([0-9]*)\s*-\s*([0-9]*)\s*$")


@dataclass(frozen=True)
class ByteRange:
    """Bytes `start` to `end` of the payload, both included."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class Unsatisfiable(Enum):
    """No range asked for overlaps the payload: a 416."""

    RANGE = "unsatisfiable"


RangeAnswer = list[ByteRange] | Unsatisfiable | None
"""Ranges to send, a 416, or None for the whole payload."""


def parse_range(header: str | None, size: int, if_range: str | None = None) -> RangeAnswer:
    """What a `Range` header asks of a payload of `size` bytes (see the module doc)."""
    if not header or if_range is not None:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    ranges: list[ByteRange] = []
    parts = specs.split(",")
    if len(parts) > MAX_RANGES:
        return None
    for part in parts:
        match = _SPEC.match(part)
        if not match or (not match.group(1) and not match.group(2)):
            return None
        first, last = match.groups()
        if not first:  # suffix: the last N bytes
            n = int(last)
            if n == 0:
                continue
            ranges.append(ByteRange(max(size - n, 0), size - 1))
            continue
        start = int(first)
        end = int(last) if last else size - 1
        if last and end < start:
            return None
        if start >= size:
            continue
        ranges.append(ByteRange(start, min(end, size - 1)))
    if not ranges or size == 0:
        return Unsatisfiable.RANGE
    return ranges


def multipart_body(
    payload: bytes, ranges: list[ByteRange], content_type: str | None, boundary: str
) -> bytes:
    """A `multipart/byteranges` body holding each range of `payload`."""
    out = bytearray()
    for r in ranges:
        out += f"\r\n--{boundary}\r\n".encode("ascii")
        if content_type:
            out += f"Content-Type: {content_type}\r\n".encode("latin-1", "replace")
        out += f"Content-Range: {r.content_range(len(payload))}\r\n\r\n".encode("ascii")
        out += payload[r.start : r.end + 1]
    out += f"\r\n--{boundary}--\r\n".encode("ascii")
    return bytes(out)
