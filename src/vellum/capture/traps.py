"""Crawler traps: URLs that would keep a crawl busy forever, refused before queueing.

Checked on every discovered URL: length, path depth, repeated path segments
(`/a/b/a/b/a/b/`, as Heritrix's PathologicalPathDecideRule), and query-parameter
explosion (calendar-style pages linking to ever new `?month=…&year=…` variants of
one path). Per-host document caps and redirect loops are enforced by the engine and
the scope's redirect-chain limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class TrapLimits:
    """Thresholds above which a URL counts as a trap."""

    max_url_length: int = 2048
    max_path_depth: int = 32
    max_segment_repeats: int = 3  # a run of segments repeated this often in a row
    max_query_variants: int = 200  # distinct query strings per host and path
    max_query_params: int = 25


def repeated_segments(path: str, limit: int) -> bool:
    """Whether a run of 1–3 path segments repeats `limit` or more times in a row."""
    parts = [p for p in path.split("/") if p]
    if len(set(parts)) == len(parts):
        return False
    for width in (1, 2, 3):
        for start in range(len(parts) - width * limit + 1):
            unit = parts[start : start + width]
            if all(
                parts[start + k * width : start + (k + 1) * width] == unit for k in range(limit)
            ):
                return True
    return False


@dataclass
class TrapDetector:
    """Says why a URL is a trap, remembering query variants seen per host and path."""

    limits: TrapLimits = field(default_factory=TrapLimits)
    _variants: dict[str, int] = field(default_factory=dict)

    def check(self, url: str) -> str | None:
        """None for an ordinary URL, else the trap it looks like."""
        lim = self.limits
        if len(url) > lim.max_url_length:
            return "URL too long"
        parts = urlsplit(url)
        path = parts.path
        if path.count("/") > lim.max_path_depth:
            return "path too deep"
        if path.count("/") >= lim.max_segment_repeats and repeated_segments(
            path, lim.max_segment_repeats
        ):
            return "repeated path segments"
        if parts.query:
            if parts.query.count("&") + 1 > lim.max_query_params:
                return "too many query parameters"
            where = parts.netloc.lower() + path
            seen = self._variants.get(where, 0) + 1
            self._variants[where] = seen
            if seen > lim.max_query_variants:
                return "query-parameter explosion"
        return None
