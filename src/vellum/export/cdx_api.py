"""The CDX server API: pywb's query parameters in, CDXJ / JSON / link / text lines out."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from vellum.errors import InvalidInput
from vellum.index.cdxj import Capture
from vellum.index.query import CdxQuery, FieldFilter, MatchType
from vellum.urls.timestamps import from_timestamp, http_date, is_timestamp

OUTPUTS = ("cdxj", "json", "link", "text")
FIELDS = ("urlkey", "timestamp", "url", "mime", "status", "digest", "length", "offset", "filename")
_FILTER = re.compile(r"^(!?)([=~]?)([a-zA-Z]+):(.*)$", re.DOTALL)
CONTENT_TYPES = {
    "cdxj": "text/x-cdxj; charset=utf-8",
    "json": "application/x-ndjson; charset=utf-8",
    "link": "application/link-format; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}


def parse_query(params: Mapping[str, Sequence[str]]) -> tuple[CdxQuery, str]:
    """A CdxQuery and output format from pywb-style parameters (each name → its values).

    Raises InvalidInput, naming the parameter, for anything that cannot be used.
    """

    def one(name: str) -> str | None:
        values = params.get(name) or []
        return values[-1] if values else None

    url = one("url")
    if not url:
        raise InvalidInput("the url parameter is required")
    match_type = _match_type(one("matchType"))
    if url.endswith("*") and match_type is MatchType.EXACT:
        url, match_type = url[:-1], MatchType.PREFIX
    if url.startswith("*.") and match_type is MatchType.EXACT:
        url, match_type = url[2:], MatchType.DOMAIN
    output = one("output") or "cdxj"
    if output not in OUTPUTS:
        raise InvalidInput(f"output must be one of {', '.join(OUTPUTS)}, not {output!r}")
    sort = one("sort")
    if sort not in (None, "", "reverse", "closest"):
        raise InvalidInput(f"sort must be reverse or closest, not {sort!r}")
    closest = _timestamp("closest", one("closest"))
    if sort == "closest" and closest is None:
        raise InvalidInput("sort=closest needs closest=<timestamp>")
    fields = None
    if one("fl"):
        fields = tuple(f.strip() for f in (one("fl") or "").split(",") if f.strip())
        unknown = [f for f in fields if f not in FIELDS]
        if unknown:
            raise InvalidInput(f"unknown field in fl: {', '.join(unknown)}")
    try:
        return _build(url, match_type, one, params, closest, fields), output
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _build(
    url: str,
    match_type: MatchType,
    one: Callable[[str], str | None],
    params: Mapping[str, Sequence[str]],
    closest: str | None,
    fields: tuple[str, ...] | None,
) -> CdxQuery:
    sort = one("sort")
    return CdxQuery(
        url=url,
        match_type=match_type,
        from_ts=_timestamp("from", one("from")),
        to_ts=_timestamp("to", one("to")),
        closest=closest,
        filters=tuple(parse_filter(f) for f in params.get("filter") or []),
        limit=_positive("limit", one("limit")),
        reverse=sort == "reverse",
        fields=fields,
        collapse_time=_positive("collapseTime", one("collapseTime")),
    )


def parse_filter(text: str) -> FieldFilter:
    """`[!][=|~]field:expr` → FieldFilter."""
    match = _FILTER.match(text)
    if not match or match.group(3) not in FIELDS:
        raise InvalidInput(f"invalid filter {text!r}: expected [!][=|~]field:expression")
    negate, op, name, expr = match.groups()
    mode = {"": "contains", "=": "exact", "~": "regex"}[op]
    if mode == "regex":
        try:
            re.compile(expr)
        except re.error as exc:
            raise InvalidInput(f"invalid regular expression in filter {text!r}: {exc}") from None
    return FieldFilter(field=name, expr=expr, mode=mode, negate=bool(negate))


def capture_fields(capture: Capture) -> dict[str, str]:
    """Every field of a capture, by its CDX API name, as strings."""
    return {
        "urlkey": capture.urlkey,
        "timestamp": capture.timestamp,
        "url": capture.url,
        "mime": capture.mime,
        "status": capture.status,
        "digest": capture.digest,
        "length": str(capture.length),
        "offset": str(capture.offset),
        "filename": capture.filename,
    }


def format_lines(
    captures: Iterable[Capture],
    output: str,
    fields: Sequence[str] | None = None,
    replay_prefix: str = "",
) -> Iterator[str]:
    """Stream one line (with its newline) per capture in the chosen output format.

    `replay_prefix` (such as `http://host/coll/`) makes the memento URLs of `link` output.
    """
    for capture in captures:
        data = capture_fields(capture)
        if output == "link":
            when = http_date(from_timestamp(capture.timestamp))
            yield (
                f'<{replay_prefix}{capture.timestamp}/{capture.url}>; rel="memento"; '
                f'datetime="{when}"\n'
            )
            continue
        if fields:
            data = {name: data[name] for name in fields}
        if output == "json":
            yield json.dumps(data) + "\n"
        elif output == "text":
            yield " ".join(value or "-" for value in data.values()) + "\n"
        elif fields:
            head = [data.pop(k) for k in ("urlkey", "timestamp") if k in data]
            yield " ".join([*head, json.dumps(data)]) + "\n"
        else:
            yield capture.to_line() + "\n"


def _match_type(value: str | None) -> MatchType:
    if not value:
        return MatchType.EXACT
    try:
        return MatchType(value)
    except ValueError:
        allowed = ", ".join(m.value for m in MatchType)
        raise InvalidInput(f"matchType must be one of {allowed}, not {value!r}") from None


def _timestamp(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not is_timestamp(value):
        raise InvalidInput(f"{name} must be a timestamp of 1 to 14 digits, not {value!r}")
    return value


def _positive(name: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or int(value) <= 0:
        raise InvalidInput(f"{name} must be a positive whole number, not {value!r}")
    return int(value)
