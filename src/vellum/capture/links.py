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


def _directory(base: str) -> str | None:
    """`base` up to its last "/" (past it, the base plays no part in resolving a path).

    None when `base` has no path to speak of (``http://host``)."""
    path = base.partition("#")[0].partition("?")[0]
    return path[: path.rfind("/") + 1] if path.count("/") >= 3 else None


def _absolute(base: str, raw: str | None, directory: str | None = None) -> str | None:
    """`raw` resolved against `base` without fragment, if it is an http(s) URL.

    `directory` is `_directory(base)`, when the caller has it already."""
    if not raw:
        return None
    url = raw.strip(_WS)
    if not url or url[0] == "#":
        return None
    if "#" in url:  # the fragment plays no part in resolving, and is dropped
        url = url.partition("#")[0]
    if url[0] != "?":
        # Resolve against the directory, cached: pages of one site repeat the same
        # references in the same directories.
        if directory is None:
            directory = _directory(base)
        if directory is not None:
            return _resolve(directory, url)
    return _resolve(base, url)


# A relative-path reference with nothing urljoin would treat specially: no scheme, query,
# fragment, backslash or leading "/".
_PLAIN_REF = re.compile(r"[A-Za-z0-9_~!$&'()*+,;=@%./-]+\Z")


def _join_plain(directory: str, url: str) -> str | None:
    """`url` (a plain relative path) resolved against `directory` (ending in "/"), as
    urljoin would, for the common forms; None for the others."""
    if url[0] == "/" or not _PLAIN_REF.match(url):
        return None
    ups = 0
    while url.startswith("../", ups * 3):
        ups += 1
    rest = url[ups * 3 :]
    if "/." in "/" + rest or "//" in "/" + rest:
        return None  # other dot segments, empty segments: leave them to urljoin
    root = directory.find("/", directory.find("//") + 2)
    if root < 0:
        return None
    path = directory[root:]
    if "//" in path:
        return None
    for _ in range(ups):
        if path == "/":
            break
        path = path[: path.rstrip("/").rfind("/") + 1]
    return directory[:root] + path + rest


@lru_cache(maxsize=1 << 14)
def _resolve(base: str, url: str) -> str | None:
    if base[-1] == "/" and base.startswith(("http://", "https://")):
        plain = _join_plain(base, url)
        if plain is not None:
            return plain
    try:
        absolute = urljoin(base, url)
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    absolute = absolute.partition("#")[0]
    scheme, sep, rest = absolute.partition(":")
    if not sep or scheme.lower() not in ("http", "https") or not rest.startswith("//"):
        return None
    return absolute


def _unique(urls: list[str | None]) -> list[str]:
    """`urls` without Nones and repeats, first occurrences in order."""
    return [u for u in dict.fromkeys(urls) if u is not None]


def _css_links(
    css: str, base_url: str, into: list[str | None], directory: str | None = None
) -> None:
    if "(" not in css and "@" not in css:
        return  # no url(), image-set() or @import: the common inline style
    for tok in css_urls(css):
        into.append(_absolute(base_url, css_unescape(css[tok.start : tok.end]), directory))


def extract_css_links(css: str, base_url: str) -> list[str]:
    """The URLs referenced by a stylesheet: url(), @import (both forms), image-set().

    Resolved against `base_url` (the stylesheet's own URL), deduplicated, in order.
    """
    found: list[str | None] = []
    _css_links(css, base_url, found)
    return _unique(found)


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


def _selector() -> str:
    """Every element the loop below looks at: those with an attribute that can hold a
    URL (so that the C matcher skips the many that have none), `<style>`, and any with
    a style or xlink:href attribute."""
    wanted = [f"{tag}[{name}]" for tag, names in _RESOURCE_ATTRS.items() for name in names]
    wanted += [f"{tag}[{name}]" for tag, names in _PAGE_ATTRS.items() for name in names]
    wanted += [f"{tag}[srcset]" for tag in sorted(_SRCSET_TAGS)]
    wanted += ["link[href]", "link[imagesrcset]", "style", "meta[http-equiv]", "form[action]"]
    wanted += ["input[src]", "[style]", "[xlink:href]"]
    return ", ".join(w.replace("xlink:href", "xlink\\:href") for w in wanted)


_LINKING = _selector()


def _document_base(tree: LexborHTMLParser, base_url: str) -> str:
    base = tree.css_first("base[href]")
    if base is None:
        return base_url
    href = base.attributes.get("href")
    resolved = _absolute(base_url, href)
    return resolved if resolved is not None else base_url


def _add_srcset(
    value: str | None, base: str, into: list[str | None], directory: str | None
) -> None:
    if value:
        for start, end in srcset_url_spans(value):
            into.append(_absolute(base, value[start:end], directory))


def extract_html_links(html: bytes, base_url: str, encoding: str | None = None) -> Links:
    """The pages to follow and the resources to fetch that an HTML document references.

    `base_url` is the document's URL; `encoding` its charset from the HTTP headers, if
    any (see `decode_html`).
    """
    text = decode_html(html, encoding)
    tree = LexborHTMLParser(text)
    base = _document_base(tree, base_url)
    directory = _directory(base)
    pages: list[str | None] = []
    resources: list[str | None] = []
    page, resource = pages.append, resources.append

    seen: set[int] = set()
    for node in tree.css(_LINKING):  # the matching is done in C; a node may come twice
        mem_id = node.mem_id
        if mem_id in seen:
            continue
        seen.add(mem_id)
        tag = node.tag
        if tag is None:
            continue
        tag = tag.lower()  # SVG keeps the case of names like feImage
        attrs = node.attributes

        names = _RESOURCE_ATTRS.get(tag)
        if names is not None:
            for name in names:
                value = attrs.get(name)
                if value:
                    resource(_absolute(base, value, directory))
            if tag in _SRCSET_TAGS:
                _add_srcset(attrs.get("srcset"), base, resources, directory)
        elif (names := _PAGE_ATTRS.get(tag)) is not None:
            for name in names:
                value = attrs.get(name)
                if value:
                    page(_absolute(base, value, directory))
        elif tag == "link":
            rels = set((attrs.get("rel") or "").lower().split())
            if rels & _RESOURCE_RELS:
                resource(_absolute(base, attrs.get("href"), directory))
                _add_srcset(attrs.get("imagesrcset"), base, resources, directory)
            elif rels & _PAGE_RELS:
                page(_absolute(base, attrs.get("href"), directory))
        elif tag == "style":
            _css_links(node.text(deep=True), base, resources, directory)
        elif tag == "meta":
            equiv = (attrs.get("http-equiv") or "").strip().lower()
            content = attrs.get("content")
            if equiv == "refresh" and content:
                span = meta_refresh_url_span(content)
                if span is not None:
                    page(_absolute(base, content[span[0] : span[1]], directory))
        elif tag == "form":
            # Missing or invalid methods mean GET; only "post" and "dialog" do not.
            method = (attrs.get("method") or "").strip().lower()
            if method not in ("post", "dialog"):
                page(_absolute(base, attrs.get("action"), directory))
        elif tag == "input":
            if (attrs.get("type") or "").strip().lower() == "image":
                resource(_absolute(base, attrs.get("src"), directory))
        elif "xlink:href" in attrs:
            resource(_absolute(base, attrs.get("xlink:href"), directory))

        style = attrs.get("style")
        if style:
            _css_links(style, base, resources, directory)

    return Links(pages=_unique(pages), resources=_unique(resources))
