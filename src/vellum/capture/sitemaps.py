"""Sitemaps (sitemaps.org): the URLs a `<urlset>` or `<sitemapindex>` lists.

Parsed with selectolax's tolerant parser (no XML entity expansion, so no billion
laughs), gzip-compressed sitemaps included, at most `MAX_SITEMAP_BYTES` decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from vellum.capture.bounded import bounded_decode

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one file


@dataclass(frozen=True)
class SitemapLinks:
    """Pages a sitemap lists, and further sitemaps a sitemap index lists."""

    pages: list[str]
    sitemaps: list[str]


def parse_sitemap(body: bytes, base_url: str, content_encoding: str | None = None) -> SitemapLinks:
    """The `<loc>` URLs of a sitemap body (as stored: content coding still applied)."""
    data = bounded_decode(body, content_encoding, MAX_SITEMAP_BYTES)
    if data[:2] == b"\x1f\x8b":  # a .xml.gz served without a Content-Encoding
        data = bounded_decode(data, "gzip", MAX_SITEMAP_BYTES)
    tree = LexborHTMLParser(data.decode("utf-8", "replace"))
    pages: list[str] = []
    sitemaps: list[str] = []
    for loc in tree.css("loc"):
        text = (loc.text() or "").strip()
        if not text:
            continue
        parent = loc.parent
        into = sitemaps if parent is not None and parent.tag == "sitemap" else pages
        into.append(urljoin(base_url, text))
    return SitemapLinks(pages, sitemaps)
