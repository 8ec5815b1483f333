"""Find the links in captured HTML and CSS, for the crawler.

`extract_html_links` splits what a page references into

* ``pages``: navigation targets to crawl next (``a``/``area`` href, ``iframe``/``frame``
  src, meta refresh, the action of GET forms, ``<link rel=alternate|canonical|next|prev>``,
  ``xlink:href`` of SVG ``<a>``), and
* ``resources``: what the page needs to render, fetched together with it (stylesheets,
  icons, preloads, manifest, images and their srcsets, scripts, media and posters,
  tracks, object/embed, ``<input type=image>``, legacy ``background`` attributes, SVG
  ``<image>``/``<use>`` hrefs, and the URLs in ``style`` attributes and ``<style>``
  elements).

``<link>`` elements whose rel is neither a resource rel nor a page rel (``preconnect``,
``dns-prefetch``, ``pingback``, ``EditURI``, ``search``, ``author``, ``license``, ...) are
ignored: they name origins, API endpoints or metadata, not parts of the page.

URLs are resolved against the document's first ``<base href>`` (itself resolved against
the page URL), fragments are dropped, fragment-only references (``#top``, ``<use
href="#icon">``) are skipped, only http and https URLs are kept, and each list is
deduplicated keeping the first occurrence, in document order. A URL can appear in both
lists (``<a href=x.png>`` and ``<img src=x.png>``).

The srcset, meta refresh and CSS scanners are shared with the replay rewriter, so that
capture and replay agree on what counts as a URL.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from vellum.urls.embedded import css_unescape, css_urls, meta_refresh_url_span, srcset_url_spans

__all__ = ["Links", "decode_html", "extract_css_links", "extract_html_links"]

_WS = " \t\n\r\f"


@dataclass(frozen=True)
class Links:
    """The URLs a page references, absolute and deduplicated, in document order."""

    pages: list[str]
    resources: list[str]


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------

_META_CHARSET = re.compile(
    rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]+)""", re.IGNORECASE
)
# WHATWG treats these labels as windows-1252; Python's codecs would not.
_AS_CP1252 = frozenset(
    {"ascii", "us-ascii", "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "cp819"}
)
_SNIFF_BYTES = 4096


def _codec(label: str) -> str | None:
    """The Python codec for an encoding label, or None if unknown."""
    label = label.strip().lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"  # a meta tag readable as ASCII cannot be UTF-16: the spec says UTF-8
    return name


def decode_html(html: bytes, encoding: str | None = None) -> str:
    """Decode an HTML document: BOM, else `encoding`, else <meta charset>, else UTF-8.

    Undecodable bytes become U+FFFD; this never raises.
    """
    if html.startswith(codecs.BOM_UTF8):
        return html[3:].decode("utf-8", errors="replace")
    if html.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return html.decode("utf-16", errors="replace")
    codec = _codec(encoding) if encoding else None
    if codec is None:
        m = _META_CHARSET.search(html, 0, _SNIFF_BYTES)
        if m is not None:
            codec = _codec(m.group(1).decode("ascii"))
    return html.decode(codec or "utf-8", errors="replace")


# --------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------


def _absolute(base: str, raw: str | None) -> str | None:
    """`raw` resolved against `base` without fragment, if it is an http(s) URL."""
    if not raw:
        return None
    url = raw.strip(_WS)
    if not url or url[0] == "#":
        return None
    if url[0] != "?":
        # Past its last "/", the base plays no part: resolve against the directory, cached
        # (pages of one site repeat the same references in the same directories).
        path = base.partition("#")[0].partition("?")[0]
        if path.count("/") >= 3:
            return _resolve(path[: path.rfind("/") + 1], url)
    return _resolve(base, url)


@lru_cache(maxsize=1 << 14)
def _resolve(base: str, url: str) -> str | None:
    try:
        absolute = urljoin(base, url)
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    absolute = absolute.partition("#")[0]
    scheme, sep, rest = absolute.partition(":")
    if not sep or scheme.lower() not in ("http", "https") or not rest.startswith("//"):
        return None
    return absolute


class _Collector:
    def __init__(self) -> None:
        self.urls: list[str] = []
        self._seen: set[str] = set()

    def add(self, url: str | None) -> None:
        if url is not None and url not in self._seen:
            self._seen.add(url)
            self.urls.append(url)


def _css_links(css: str, base_url: str, into: _Collector) -> None:
    for tok in css_urls(css):
        into.add(_absolute(base_url, css_unescape(css[tok.start : tok.end])))


def extract_css_links(css: str, base_url: str) -> list[str]:
    """The URLs referenced by a stylesheet: url(), @import (both forms), image-set().

    Resolved against `base_url` (the stylesheet's own URL), deduplicated, in order.
    """
    found = _Collector()
    _css_links(css, base_url, found)
    return found.urls


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------

_RESOURCE_RELS = frozenset(
    {
        "stylesheet", "icon", "apple-touch-icon", "apple-touch-icon-precomposed",
        "mask-icon", "fluid-icon", "preload", "prefetch", "modulepreload", "manifest",
    }
)  # fmt: skip
_PAGE_RELS = frozenset({"alternate", "canonical", "next", "prev"})

# element -> attributes holding one URL of a resource
_RESOURCE_ATTRS: dict[str, tuple[str, ...]] = {
    "img": ("src",),
    "source": ("src",),
    "script": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "body": ("background",),
    "table": ("background",),
    "td": ("background",),
    "th": ("background",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
    "feimage": ("href", "xlink:href"),
}
_PAGE_ATTRS: dict[str, tuple[str, ...]] = {
    "a": ("href", "xlink:href"),
    "area": ("href",),
    "iframe": ("src",),
    "frame": ("src",),
}
_SRCSET_TAGS = frozenset({"img", "source"})
# Every element the loop below looks at: those that can hold a URL, and any with a
# style or xlink:href attribute.
_LINKING = (
    ", ".join((*_RESOURCE_ATTRS, *_PAGE_ATTRS, "link", "style", "meta", "form", "input", "[style]"))
    + ", [xlink\\:href]"
)


def _document_base(tree: LexborHTMLParser, base_url: str) -> str:
    base = tree.css_first("base[href]")
    if base is None:
        return base_url
    href = base.attributes.get("href")
    resolved = _absolute(base_url, href)
    return resolved if resolved is not None else base_url


def _add_srcset(value: str | None, base: str, into: _Collector) -> None:
    if value:
        for start, end in srcset_url_spans(value):
            into.add(_absolute(base, value[start:end]))


def extract_html_links(html: bytes, base_url: str, encoding: str | None = None) -> Links:
    """The pages to follow and the resources to fetch that an HTML document references.

    `base_url` is the document's URL; `encoding` its charset from the HTTP headers, if
    any (see `decode_html`).
    """
    text = decode_html(html, encoding)
    tree = LexborHTMLParser(text)
    base = _document_base(tree, base_url)
    pages = _Collector()
    resources = _Collector()

    seen: set[int] = set()
    for node in tree.css(_LINKING):  # the matching is done in C; a node may come twice
        if node.mem_id in seen:
            continue
        seen.add(node.mem_id)
        tag = node.tag
        if tag is None:
            continue
        tag = tag.lower()  # SVG keeps the case of names like feImage
        attrs = node.attributes

        names = _RESOURCE_ATTRS.get(tag)
        if names is not None:
            for name in names:
                resources.add(_absolute(base, attrs.get(name)))
            if tag in _SRCSET_TAGS:
                _add_srcset(attrs.get("srcset"), base, resources)
        elif (names := _PAGE_ATTRS.get(tag)) is not None:
            for name in names:
                pages.add(_absolute(base, attrs.get(name)))
        elif tag == "link":
            rels = set((attrs.get("rel") or "").lower().split())
            if rels & _RESOURCE_RELS:
                resources.add(_absolute(base, attrs.get("href")))
                _add_srcset(attrs.get("imagesrcset"), base, resources)
            elif rels & _PAGE_RELS:
                pages.add(_absolute(base, attrs.get("href")))
        elif tag == "style":
            _css_links(node.text(deep=True), base, resources)
        elif tag == "meta":
            equiv = (attrs.get("http-equiv") or "").strip().lower()
            content = attrs.get("content")
            if equiv == "refresh" and content:
                span = meta_refresh_url_span(content)
                if span is not None:
                    pages.add(_absolute(base, content[span[0] : span[1]]))
        elif tag == "form":
            # Missing or invalid methods mean GET; only "post" and "dialog" do not.
            method = (attrs.get("method") or "").strip().lower()
            if method not in ("post", "dialog"):
                pages.add(_absolute(base, attrs.get("action")))
        elif tag == "input":
            if (attrs.get("type") or "").strip().lower() == "image":
                resources.add(_absolute(base, attrs.get("src")))
        elif "xlink:href" in attrs:
            resources.add(_absolute(base, attrs.get("xlink:href")))

        style = attrs.get("style")
        if style:
            _css_links(style, base, resources)

    return Links(pages=pages.urls, resources=resources.urls)
