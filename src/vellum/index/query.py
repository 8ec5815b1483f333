"""One typed query over the index, with the semantics of the Wayback/pywb CDX server."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class MatchType(str, Enum):
    """How `url` selects captures."""

    EXACT = "exact"  # the URL's own SURT key
    PREFIX = "prefix"  # every key that starts with the URL's key (path prefix)
    HOST = "host"  # every URL on that host
    DOMAIN = "domain"  # the host and all its subdomains


@dataclass(frozen=True)
class FieldFilter:
    """One `filter` parameter: `[!][=|~]field:expr`.

    No prefix: the field contains `expr`; `=`: equals; `~`: matches the regex `expr`;
    a leading `!` negates.
    """

    field: str
    expr: str
    mode: str = "contains"  # "contains", "exact" or "regex"
    negate: bool = False


@dataclass(frozen=True)
class CdxQuery:
    """What to look up. Timestamps are 1–14 digits; `from_ts` pads down, `to_ts` pads up."""

    url: str
    match_type: MatchType = MatchType.EXACT
    from_ts: str | None = None
    to_ts: str | None = None
    closest: str | None = None  # sort by distance to this timestamp
    filters: tuple[FieldFilter, ...] = field(default_factory=tuple)
    limit: int | None = None
    reverse: bool = False
    fields: tuple[str, ...] | None = None  # `fl`: output only these fields
    collapse_time: int | None = None  # collapse captures whose timestamps share N digits
    resolve_revisits: bool = False  # attach the original of each revisit
