"""The URLs a response points to, and the URL form the crawler queues them in.

Pure functions: a fetched exchange in, `(url, hop letter)` pairs out (see
`vellum.capture.scope` for the letters); `normalize` turns a found link into the form
that is fetched and recorded.
"""

from __future__ import annotations

import codecs
import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from vellum.capture.bounded import MAX_DECODED_BYTES, bounded_decode
from vellum.capture.links import extract_css_links, extract_html_links
from vellum.capture.sitemaps import parse_sitemap
from vellum.warc.encoding import charset_of
from vellum.warc.exchange import HttpExchange

HTML_TYPES = ("text/html", "application/xhtml+xml")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"  # already-encoded and reserved characters stay as they are
_QUERY_SAFE = _PATH_SAFE + "?"
_PLAIN_URL = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9/%:@!$&'()*+,;=._~?-]*\Z")


def normalize(url: str) -> str | None:
    """Drop the fragment, give an empty path its `/`, percent-encode what must be (UTF-8),
    IDNA-encode the host; None for non-http(s) URLs."""
    if _PLAIN_URL.match(url):
        return url  # the common case: nothing to change
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    netloc = parts.netloc
    if not netloc.isascii():
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            return None
        netloc = host + (f":{parts.port}" if parts.port else "")
    path = quote(parts.path, safe=_PATH_SAFE) or "/"
    query = quote(parts.query, safe=_QUERY_SAFE)
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def outlinks(path: str, exchange: HttpExchange) -> list[tuple[str, str]]:
    """Every URL the response points to, with its hop letter (L, E, R, S, M).

    `path` is the hop path of the URL fetched: no links from robots.txt (`P`), sitemap
    entries from sitemaps (`M`), no page links from an HTML document used as an embed.
    """
    location = exchange.header("Location")
    if 300 <= exchange.status < 400:
        return [(urljoin(exchange.url, location.strip()), "R")] if location else []
    if exchange.status >= 400 or path.endswith("P"):
        return []
    mime = exchange.mime.lower()
    encoding = exchange.header("Content-Encoding")
    if path.endswith("M"):
        found = parse_sitemap(exchange.body, exchange.url, encoding)
        return [(u, "S") for u in found.pages] + [(u, "M") for u in found.sitemaps]
    if not mime and exchange.body.lstrip()[:1] == b"<":
        mime = "text/html"  # no Content-Type: sniff markup, as browsers do
    if mime not in (*HTML_TYPES, "text/css"):
        return []
    body = bounded_decode(exchange.body, encoding, MAX_DECODED_BYTES)
    charset = charset_of(exchange.header("Content-Type"))
    if mime == "text/css":
        css = body.decode(charset or "utf-8", "replace")
        return [(u, "E") for u in extract_css_links(css, exchange.url)]
    if path.rstrip("R").endswith("E"):
        return []  # an HTML document used as a resource
    if b"\0" in body and not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        body = body.replace(b"\0", b"")  # NULs make the parser's tree ~20x larger
    links = extract_html_links(body, exchange.url, charset)
    return [(u, "E") for u in links.resources] + [(u, "L") for u in links.pages]
