"""One typed query over the index, with the semantics of the Wayback/pywb CDX server.

`CdxQuery` says what to look up; `execute` runs it over sorted runs (segments, ZipNum
shards, lines in memory) and streams the answers as `Capture`s. Nothing is read whole:
each run is searched for the key range, the runs are merged as they are read, and a
"closest" lookup seeks to the timestamp and walks outward both ways from there.

Where Vellum differs from pywb on purpose:

- `collapse_time` keeps the first capture of each run of captures of one URL key whose
  timestamps share the first N digits (pywb compares the HTTP status too, and not the
  key, so in a prefix query it collapses captures of different URLs into one);
- `closest` with a match type other than exact needs a `limit` (the answers must be
  ranked before the first can be given; with a limit, memory stays bounded);
- revisits are resolved against every capture of the same key, both ways in time, not
  only against the captures that came earlier in the same answer; the revisit keeps its
  own fields and carries the original as `Capture.original`.
"""

from __future__ import annotations

import calendar
import dataclasses
import heapq
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from json.encoder import encode_basestring_ascii as _json_str

from vellum.index.cdxj import FIELDS, REVISIT_MIME, Capture
from vellum.index.segments import SortedRun, Window, merge_lines
from vellum.urls.surt import surt
from vellum.urls.timestamps import is_timestamp, pad_high, pad_low


class MatchType(StrEnum):
    """How `url` selects captures."""

    EXACT = "exact"  # the URL's own SURT key
    PREFIX = "prefix"  # every key that starts with the URL's key (path prefix)
    HOST = "host"  # every URL on that host
    DOMAIN = "domain"  # the host and all its subdomains


FILTER_MODES = ("contains", "exact", "regex")
FIELD_ALIASES = {
    "original": "url",
    "mimetype": "mime",
    "statuscode": "status",
    "key": "urlkey",
}
"""Other names pywb accepts for the fields in `filter` and `fl`."""


def _field_name(name: str) -> str:
    name = FIELD_ALIASES.get(name, name)
    if name not in FIELDS:
        raise ValueError(f"unknown field {name!r}; use one of {', '.join(FIELDS)}")
    return name


@dataclass(frozen=True)
class FieldFilter:
    """One `filter` parameter: `[!][=|~]field:expr`.

    No prefix: the field contains `expr`; `=`: equals; `~`: matches the regex `expr`
    (anchored at the start, as `re.match`); a leading `!` negates. An empty `field`
    tests the whole CDXJ line, as pywb does for a filter without `field:`.
    """

    field: str
    expr: str
    mode: str = "contains"  # "contains", "exact" or "regex"
    negate: bool = False

    def __post_init__(self) -> None:
        if self.mode not in FILTER_MODES:
            raise ValueError(f"unknown filter mode {self.mode!r}; use one of {FILTER_MODES}")
        if self.field:
            object.__setattr__(self, "field", _field_name(self.field))
        if self.mode == "regex":
            try:
                re.compile(self.expr)
            except re.error as exc:
                raise ValueError(f"bad regular expression in filter {self.expr!r}: {exc}") from exc

    @classmethod
    def parse(cls, text: str) -> FieldFilter:
        """A filter from its CDX server form, e.g. `!=status:200` or `~url:.*\\.pdf$`."""
        negate = text.startswith("!")
        rest = text[1:] if negate else text
        mode = {"=": "exact", "~": "regex"}.get(rest[:1], "contains")
        if mode != "contains":
            rest = rest[1:]
        name, sep, expr = rest.partition(":")
        if not sep:
            name, expr = "", rest
        return cls(field=name, expr=expr, mode=mode, negate=negate)

    def matches(self, capture: Capture) -> bool:
        """Whether the capture passes this filter."""
        value = capture.value(self.field) if self.field else capture.to_line()
        if self.mode == "exact":
            hit = value == self.expr
        elif self.mode == "regex":
            hit = re.match(self.expr, value) is not None
        else:
            hit = self.expr in value
        return hit != self.negate


@dataclass(frozen=True)
class CdxQuery:
    """What to look up. Timestamps are 1–14 digits; `from_ts` pads down, `to_ts` pads up."""

    url: str
    match_type: MatchType = MatchType.EXACT
    from_ts: str | None = None
    to_ts: str | None = None
    closest: str | None = None  # order by distance to this timestamp (padded up)
    filters: tuple[FieldFilter, ...] = field(default_factory=tuple)
    limit: int | None = None
    reverse: bool = False  # newest first (ignored with `closest`)
    fields: tuple[str, ...] | None = None  # `fl`: output only these fields
    collapse_time: int | None = None  # collapse captures whose timestamps share N digits
    resolve_revisits: bool = False  # attach the original of each revisit

    def __post_init__(self) -> None:
        if not self.url:
            raise ValueError("a query needs a url")
        object.__setattr__(self, "match_type", MatchType(self.match_type))
        for name in ("from_ts", "to_ts", "closest"):
            value = getattr(self, name)
            if value is not None and not is_timestamp(value):
                raise ValueError(f"{name} must be a timestamp of 1 to 14 digits, not {value!r}")
        if self.limit is not None and self.limit < 0:
            raise ValueError("limit must be 0 or more")
        if self.collapse_time is not None and not 1 <= self.collapse_time <= 14:
            raise ValueError("collapse_time must be between 1 and 14 digits")
        if self.fields is not None:
            object.__setattr__(self, "fields", tuple(_field_name(f) for f in self.fields))
        if (
            self.closest is not None
            and self.match_type is not MatchType.EXACT
            and self.limit is None
        ):
            raise ValueError("closest with a prefix, host or domain match needs a limit")


def key_range(url: str, match_type: MatchType) -> tuple[bytes, bytes]:
    """The range `[start, end)` of index lines that `url` selects, as pywb computes it."""
    key = surt(url)
    if match_type is MatchType.EXACT:
        return (key + " ").encode(), (key + "!").encode()
    if match_type is MatchType.PREFIX:
        if url.endswith("/") and not key.endswith("/"):
            key += "/"
        if url.endswith("?") and not key.endswith("?"):
            key += "?"
        return key.encode(), (key[:-1] + chr(ord(key[-1]) + 1)).encode()
    host = key.split(")/")[0]
    if match_type is MatchType.HOST:
        return (host + ")/").encode(), (host + "*").encode()
    # domain: the host's own key and every key of a subdomain (`com,example,`…)
    start = host + "," if "," not in host else host + ")/"
    return start.encode(), (host + "-").encode()


def execute(runs: Sequence[SortedRun], q: CdxQuery) -> Iterator[Capture]:
    """The captures `q` selects from the runs, streamed in the order it asks for."""
    start, end = key_range(q.url, q.match_type)
    exact = q.match_type is MatchType.EXACT
    if exact:
        # Seek on the timestamp bounds instead of filtering every capture of the key:
        # `<key> <from>` ≤ line < `<key> <to>!` (a space sorts before "!").
        prefix = start
        if q.from_ts:
            start = prefix + pad_low(q.from_ts).encode()
        if q.to_ts:
            end = prefix + pad_high(q.to_ts).encode() + b"!"
    windows = [w for w in (run.window(start, end) for run in runs) if w is not None]
    stream: Iterator[Capture]
    if q.closest is not None and exact:
        stream = _closest_exact(windows, start, end, q)
    elif q.closest is not None:
        target = _seconds(pad_high(q.closest))
        candidates = _refine(_parse(merge_lines([w.lines() for w in windows])), q, exact)
        limit = q.limit if q.limit is not None else 0
        stream = iter(heapq.nsmallest(limit, candidates, key=_closeness(target)))
    else:
        lines = merge_lines([w.lines(q.reverse) for w in windows], reverse=q.reverse)
        stream = _refine(_parse(lines), q, exact, descending=q.reverse)
    if q.limit is not None:
        stream = itertools.islice(stream, q.limit)
    if q.resolve_revisits:
        stream = _resolve_all(runs, stream)
    return stream


def find_original(runs: Sequence[SortedRun], revisit: Capture) -> Capture | None:
    """The capture a revisit stands for: same key and digest, closest in time, not a revisit."""
    if not revisit.digest:
        return None
    key = revisit.urlkey.encode()
    windows = [w for w in (r.window(key + b" ", key + b"!") for r in runs) if w is not None]
    needle = b'"digest": ' + _json_str(revisit.digest).encode() + b","
    marker = b'"mime": ' + _json_str(REVISIT_MIME).encode()
    pivot = key + b" " + revisit.timestamp.encode()
    for line in _closest_lines(windows, len(key), pivot, _seconds(revisit.timestamp)):
        if needle in line and marker not in line:
            found = parse_line(line)
            if found.digest == revisit.digest and not found.is_revisit:
                return found
    return None


# --- the stages of a query ---------------------------------------------------------------


def parse_line(line: bytes) -> Capture:
    """The capture of an index line, with whatever pywb's CDXJ adds for some records.

    Lines of POST/PUT captures (`requestBody`, `method`) and of records without a media
    type are parsed by the indexer's `IndexedCapture`, so that `to_line` gives them back
    byte for byte; every other line is a plain `Capture`.
    """
    text = line.decode("utf-8", "surrogateescape")
    if b'"method": ' in line or b'"mime": ' not in line:
        from vellum.index.indexer import IndexedCapture  # imported here: it reads WARCs

        return IndexedCapture.from_line(text)
    return Capture.from_line(text)


def _parse(lines: Iterable[bytes]) -> Iterator[Capture]:
    return (parse_line(line) for line in lines)


def _refine(
    captures: Iterator[Capture], q: CdxQuery, exact: bool, descending: bool = False
) -> Iterator[Capture]:
    """Time bounds (when not sought already), filters, then collapsing, as pywb orders them."""
    if not exact and (q.from_ts or q.to_ts):
        low = pad_low(q.from_ts) if q.from_ts else ""
        high = pad_high(q.to_ts) if q.to_ts else "99999999999999"
        captures = (c for c in captures if low <= c.timestamp <= high)
    if q.filters:
        tests = q.filters
        captures = (c for c in captures if all(f.matches(c) for f in tests))
    if q.collapse_time:
        captures = _collapse(captures, q.collapse_time, descending)
    return captures


def _collapse(captures: Iterator[Capture], digits: int, descending: bool) -> Iterator[Capture]:
    """The first (earliest) capture of each run sharing a key and N timestamp digits."""
    group: tuple[str, str] | None = None
    if not descending:
        for c in captures:
            token = (c.urlkey, c.timestamp[:digits])
            if token != group:
                group = token
                yield c
        return
    # Read newest first: the earliest of a group is the last one seen before it changes.
    kept: Capture | None = None
    for c in captures:
        token = (c.urlkey, c.timestamp[:digits])
        if token != group and kept is not None:
            yield kept
        group, kept = token, c
    if kept is not None:
        yield kept


def _closest_exact(
    windows: list[Window], start: bytes, end: bytes, q: CdxQuery
) -> Iterator[Capture]:
    """Captures of one key by distance to `q.closest`: seek there, walk out both ways."""
    assert q.closest is not None
    closest = pad_high(q.closest)
    target = _seconds(closest)
    key_len = start.index(b" ")
    prefix = start[: key_len + 1]
    if not q.collapse_time:
        pivot = min(max(prefix + closest.encode(), start), end)
        lines = _closest_lines(windows, key_len, pivot, target)
        return _refine(_parse(lines), q, exact=True)
    # Collapsing keeps the earliest capture of each group, so the walk starts at the
    # start of the target's group; that first capture may lie before the target.
    pivot = min(max(prefix + closest[: q.collapse_time].encode(), start), end)
    halves = [w.split(pivot) for w in windows]
    later = _refine(_parse(merge_lines([a.lines() for _, a in halves])), q, exact=True)
    earlier = _refine(
        _parse(merge_lines([b.lines(True) for b, _ in halves], reverse=True)),
        q,
        exact=True,
        descending=True,
    )
    first = list(itertools.islice(later, 1))
    return heapq.merge(iter(first), earlier, later, key=_closeness(target))


def _closest_lines(
    windows: list[Window], key_len: int, pivot: bytes, target: int
) -> Iterator[bytes]:
    """Lines of one key ordered by distance in time to `target`, earlier first on a tie."""
    halves = [w.split(pivot) for w in windows]
    later = merge_lines([a.lines() for _, a in halves])
    earlier = _ascending_ties(
        merge_lines([b.lines(True) for b, _ in halves], reverse=True), key_len
    )

    def closeness(line: bytes) -> tuple[int, bytes]:
        ts = line[key_len + 1 : key_len + 15]
        return abs(_seconds(ts) - target), ts

    return heapq.merge(earlier, later, key=closeness)


def _ascending_ties(lines: Iterator[bytes], key_len: int) -> Iterator[bytes]:
    """Lines read backward, but those sharing a timestamp in ascending order."""
    group: list[bytes] = []
    stamp = b""
    for line in lines:
        ts = line[key_len + 1 : key_len + 15]
        if ts != stamp and group:
            group.reverse()
            yield from group
            group = []
        stamp = ts
        group.append(line)
    group.reverse()
    yield from group


def _closeness(target: int) -> Callable[[Capture], tuple[int, str]]:
    def key(c: Capture) -> tuple[int, str]:
        return abs(_seconds(c.timestamp) - target), c.timestamp

    return key


def _resolve_all(runs: Sequence[SortedRun], captures: Iterator[Capture]) -> Iterator[Capture]:
    for c in captures:
        if c.is_revisit:
            original = find_original(runs, c)
            if original is not None:
                c = dataclasses.replace(c, original=original)
        yield c


def _seconds(ts: str | bytes) -> int:
    """Seconds since the epoch of a 14-digit timestamp (shorter ones padded down)."""
    if len(ts) < 14:
        text = ts.decode() if isinstance(ts, bytes) else ts
        ts = pad_low(text) if is_timestamp(text) else "19700101000000"
    return calendar.timegm(
        (int(ts[0:4]), int(ts[4:6]), int(ts[6:8]), int(ts[8:10]), int(ts[10:12]), int(ts[12:14]))
    )
