"""Header blocks of WARC, ARC and HTTP messages, parsed the way warcio parses them.

Pure functions from bytes to values. They follow warcio's `StatusAndHeadersParser`
(what pywb and cdxj-indexer index with) quirk for quirk: a line ends at LF, a header
block ends at the first line that is blank once trailing whitespace is stripped, a line
without a colon is dropped, a line starting with a space or tab continues the previous
value, text is UTF-8 or else Latin-1, and the first header of a name wins.
"""

from __future__ import annotations

import calendar
import mmap
import re
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "WARC_VERSIONS",
    "Buffer",
    "HeadBlock",
    "arc_date_to_timestamp",
    "find_head_end",
    "has_head_end",
    "parse_head",
    "quick_response_head",
    "warc_date_to_timestamp",
]

WARC_VERSIONS = ("WARC/1.1", "WARC/1.0", "WARC/0.17", "WARC/0.18")

_NON_DIGITS = re.compile(r"[^\d]")

Buffer = bytes | bytearray | mmap.mmap
"""What header blocks are parsed from: bytes, or a whole file mapped in memory."""


@dataclass(frozen=True, slots=True)
class HeadBlock:
    """A status line (or request line) and its headers.

    `first` is the first token of the first line (a protocol such as `WARC/1.0` or
    `HTTP/1.1`, or a request method), `rest` what follows it, stripped.
    """

    first: str
    rest: str
    headers: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        """The value of the first header called `name` (case-insensitive), if any."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def status(self) -> str:
        """The first word after the protocol: the status code of an HTTP response."""
        return self.rest.split(" ", 1)[0]


def _decode(raw: bytes | bytearray) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-1")


def _lines(data: Buffer, start: int, end: int) -> tuple[list[bytes | bytearray], int, bool]:
    """The lines of a header block from `start`, the offset after it, and whether it ended.

    The block ends at its first blank line; without one, at `end`.
    """
    lines: list[bytes | bytearray] = []
    pos = start
    while pos < end:
        nl = data.find(b"\n", pos, end)
        stop = end if nl < 0 else nl + 1
        line = data[pos:stop]
        pos = stop
        if not line.strip():
            return lines, pos, True
        lines.append(line)
    return lines, pos, False


def find_head_end(data: Buffer, start: int = 0, end: int | None = None) -> int:
    """The offset just after the blank line that ends the block at `start`, or -1."""
    _, pos, ended = _lines(data, start, len(data) if end is None else end)
    return pos if ended else -1


def has_head_end(data: bytes) -> bool:
    """Whether `data` holds the blank line that ends a header block starting it."""
    return b"\r\n\r\n" in data or b"\n\n" in data or find_head_end(data) >= 0


def parse_head(data: Buffer, start: int = 0, end: int | None = None) -> tuple[HeadBlock, int]:
    """Parse the header block at `start`; returns it and the offset just after it.

    An empty first line gives an empty block (no protocol, no headers), as in warcio.
    """
    stop = len(data) if end is None else end
    nl = data.find(b"\n", start, stop)
    first_end = stop if nl < 0 else nl + 1
    first_line = _decode(data[start:first_end]).rstrip()
    if not first_line:
        return HeadBlock("", "", ()), first_end
    lines, pos, _ = _lines(data, first_end, stop)
    headers: list[tuple[str, str]] = []
    name: str | None = None
    value: str | None = None
    for raw in lines:
        line = _decode(raw).rstrip()
        if line[:1] in (" ", "\t") and name is not None:
            if value is not None:
                value += line
            continue
        if name is not None and value is not None:
            headers.append((name, value))
        key, colon, rest = line.partition(":")
        name, value = (key.rstrip(" \t"), rest.lstrip()) if colon else (key, None)
    if name is not None and value is not None:
        headers.append((name, value))
    protocol, _, rest = first_line.partition(" ")
    return HeadBlock(protocol, rest.strip(), tuple(headers)), pos


def quick_response_head(data: bytes) -> tuple[HeadBlock, int] | None:
    """The status line and Content-Type of an HTTP head, or None if it needs `parse_head`.

    The fast way for the common case: ASCII, CRLF line ends only, no continuation
    lines. The HeadBlock holds only the Content-Type header.
    """
    end = data.find(b"\r\n\r\n")
    if end <= 0:
        return None
    head = data[: end + 2]
    crlf = head.count(b"\r\n")
    if (
        head.count(b"\n") != crlf
        or head.count(b"\r") != crlf
        or b"\n " in head
        or b"\n\t" in head
        or not head.isascii()
        or head[:1] in (b" ", b"\t")
    ):
        return None
    line_end = head.find(b"\r\n")
    first, _, rest = head[:line_end].partition(b" ")
    headers: tuple[tuple[str, str], ...] = ()
    lowered = head.lower()
    at = lowered.find(b"\r\ncontent-type", line_end)
    while at >= 0:
        colon = at + 14
        while lowered[colon : colon + 1] in (b" ", b"\t"):
            colon += 1
        if lowered[colon : colon + 1] == b":":
            value = head[colon + 1 : head.find(b"\r\n", colon)].strip()
            headers = (("Content-Type", value.decode("ascii")),)
            break
        at = lowered.find(b"\r\ncontent-type", at + 2)
    return HeadBlock(first.decode("ascii"), rest.strip().decode("ascii"), headers), end + 4


def warc_date_to_timestamp(value: str) -> str | None:
    """The 14-digit timestamp of a WARC-Date (W3C-DTF), as warcio computes it; None if bad.

    The common form `2014-01-03T03:03:21Z` takes the fast path; others (fractions,
    time zones, other separators) go through warcio's rule: the runs of digits are year,
    month, day, hour, minute, second and microseconds, and must make a valid date.
    """
    if len(value) == 20 and value[4] == "-" and value[10] == "T" and value[19] == "Z":
        digits = value[0:4] + value[5:7] + value[8:10] + value[11:13] + value[14:16] + value[17:19]
        if (
            digits.isdigit()
            and digits.isascii()
            and "00" < digits[4:6] < "13"
            and "00" < digits[6:8] < "29"
            and digits[8:10] < "24"
            and digits[10:12] < "60"
            and digits[12:14] < "60"
            and digits[0] != "0"
        ):
            return digits
    nums = _NON_DIGITS.split(value)
    if nums and nums[-1] == "":
        nums = nums[:-1]
    if not 3 <= len(nums) <= 7 or not all(n.isdigit() and n.isascii() for n in nums):
        return None
    if len(nums) == 7:
        nums[6] = (nums[6][:6] + "000000")[:6]
    try:
        when = datetime(*(int(n) for n in nums))  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError):
        return None
    if when.year < 1000:
        return None
    return when.strftime("%Y%m%d%H%M%S")


def arc_date_to_timestamp(value: str) -> str:
    """The 14-digit timestamp of an ARC date field, as warcio reads it.

    Digits past 14 are ignored; a short value is padded with `299912` to six digits and
    a missing or non-numeric field becomes its maximum; every field is clamped into its
    range (`20131709005601` → 20131209005601).
    """
    text = value + "299912"[len(value) :] if len(value) < 6 else value

    def field(start: int, end: int, low: int, high: int) -> int:
        if len(text) < end:
            return high
        try:
            return max(low, min(int(text[start:end]), high))
        except ValueError:
            return high

    year = field(0, 4, 1900, 2999)
    month = field(4, 6, 1, 12)
    day = field(6, 8, 1, calendar.monthrange(year, month)[1])
    hour = field(8, 10, 0, 23)
    minute = field(10, 12, 0, 59)
    second = field(12, 14, 0, 59)
    return f"{year:04d}{month:02d}{day:02d}{hour:02d}{minute:02d}{second:02d}"
