"""What a "not archived" page offers instead: URLs captured under the same prefix.

The URL's path is shortened one segment at a time (`/a/b/c.html` → `/a/b/` → `/a/` →
`/`) until a prefix holds captured URLs; the first `limit` of them (in index order, the
URL asked for itself left out) are the nearest. Each prefix costs one bounded index scan.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from vellum.index.query import CdxQuery, MatchType
from vellum.index.store import IndexStore
from vellum.urls.surt import surt

__all__ = ["nearest_urls", "parent_prefixes", "search_href"]

_SCAN = 500  # index lines read per prefix


def parent_prefixes(url: str) -> list[str]:
    """The URL's directory prefixes, longest first, down to the host's root."""
    parts = urlsplit(url)
    segments = parts.path.split("/")[1:-1]  # directories only
    out = []
    for n in range(len(segments), -1, -1):
        path = "/" + "".join(s + "/" for s in segments[:n])
        out.append(urlunsplit((parts.scheme, parts.netloc, path, "", "")))
    return out


def nearest_urls(store: IndexStore, url: str, limit: int = 10) -> list[str]:
    """Up to `limit` captured URLs under the nearest prefix of `url` that has any."""
    own = surt(url)
    for prefix in parent_prefixes(url):
        seen: dict[str, str] = {}
        query = CdxQuery(prefix, match_type=MatchType.PREFIX, limit=_SCAN)
        for c in store.query(query):
            if c.urlkey != own and c.urlkey not in seen:
                seen[c.urlkey] = c.url
                if len(seen) >= limit:
                    break
        if seen:
            return list(seen.values())
    return []


def search_href(url: str) -> str:
    """The search page's address for a URL (`/search?q=<url>`)."""
    return "/search?q=" + quote(url, safe="")
