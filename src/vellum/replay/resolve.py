"""Choose which capture answers a replay request."""

from __future__ import annotations

from datetime import datetime

from vellum.index.cdxj import Capture
from vellum.urls.timestamps import from_timestamp, pad_high


def closest(captures: list[Capture], url: str, timestamp: str) -> list[Capture]:
    """Captures ordered from best to worst answer for `url` at `timestamp`.

    Closest in time first; on a tie, the one whose URL is exactly the one asked for
    (SURT keys fold http/https, `www.` and case). An empty timestamp means the latest.
    A partial timestamp is padded up to the end of its period, as pywb does.
    """
    if not captures:
        return []
    target = (
        from_timestamp(pad_high(timestamp))
        if timestamp
        else datetime.max.replace(tzinfo=from_timestamp("1970").tzinfo)
    )

    def rank(c: Capture) -> tuple[float, int, int]:
        distance = abs((from_timestamp(c.timestamp) - target).total_seconds())
        return (distance, 0 if c.url == url else 1, 1 if c.is_revisit else 0)

    return sorted(captures, key=rank)


def html_pages(captures: list[Capture]) -> dict[str, list[Capture]]:
    """Successful HTML captures grouped by URL, each list oldest first."""
    pages: dict[str, list[Capture]] = {}
    for c in captures:
        if c.mime in ("text/html", "application/xhtml+xml") and c.status == "200":
            pages.setdefault(c.url, []).append(c)
    for versions in pages.values():
        versions.sort(key=lambda c: c.timestamp)
    return pages
