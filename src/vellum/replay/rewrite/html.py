"""Streaming, faithful HTML rewriting for replay.

The output equals the input character for character, except for

* attribute values that hold URLs (rewritten into the archive),
* ``integrity`` attributes (removed: the rewritten resource would not match the hash),
* ``<meta http-equiv="Content-Security-Policy">`` elements (removed),
* the CSS inside ``<style>`` elements and ``style`` attributes (URLs rewritten), and
* the head and body inserts.

It is built on the standard library's `html.parser.HTMLParser`, used only as a tokenizer:
every piece of input the tokenizer consumes is reported through its `updatepos(i, j)`
hook, and this module copies `rawdata[i:j]` to the output unless a handler asked for a
replacement. That way comments, doctypes, character references, end tags, text and
malformed markup pass through untouched without being reconstructed, and a start tag is
rebuilt only when one of its attributes changes.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from html.entities import html5
from html.parser import HTMLParser

from vellum.replay.rewrite.css import rewrite_css
from vellum.replay.urlrewriter import UrlRewriter
from vellum.urls.embedded import meta_refresh_url_span, srcset_url_spans

__all__ = [
    "HtmlRewriter",
    "escape_attr",
    "link_modifier",
    "meta_refresh_url_span",
    "rewrite_html",
    "rewrite_srcset",
    "srcset_url_spans",
    "unescape_attr",
]

_log = logging.getLogger(__name__)

_WS = " \t\n\r\f"  # ASCII whitespace as HTML defines it

# --------------------------------------------------------------------------------------
# Attribute values
# --------------------------------------------------------------------------------------

_CHARREF = re.compile(r"&(#[xX][0-9a-fA-F]+;?|#[0-9]+;?|[A-Za-z][A-Za-z0-9]*;?)")

# Numeric references that the HTML spec maps to other code points (windows-1252 range).
_C1_REPLACEMENTS = {
    0x80: "\u20ac", 0x82: "\u201a", 0x83: "\u0192", 0x84: "\u201e", 0x85: "\u2026",
    0x86: "\u2020", 0x87: "\u2021", 0x88: "\u02c6", 0x89: "\u2030", 0x8A: "\u0160",
    0x8B: "\u2039", 0x8C: "\u0152", 0x8E: "\u017d", 0x91: "\u2018", 0x92: "\u2019",
    0x93: "\u201c", 0x94: "\u201d", 0x95: "\u2022", 0x96: "\u2013", 0x97: "\u2014",
    0x98: "\u02dc", 0x99: "\u2122", 0x9A: "\u0161", 0x9B: "\u203a", 0x9C: "\u0153",
    0x9E: "\u017e", 0x9F: "\u0178",
}  # fmt: skip


def _charref(m: re.Match[str]) -> str:
    ref = m.group(1)
    if ref[0] == "#":
        digits = ref[1:].rstrip(";")
        code = int(digits[1:], 16) if digits[0] in "xX" else int(digits)
        if code in _C1_REPLACEMENTS:
            return _C1_REPLACEMENTS[code]
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "\ufffd"
        return chr(code)
    if ref[-1] == ";":
        return html5.get(ref, m.group(0))
    # A legacy reference without ";" (such as "&copy") is decoded in an attribute only if
    # it is not followed by "=" or an alphanumeric: "?a=1&copy=2" keeps its "&copy".
    # The regex consumed every alphanumeric, so only "=" remains to check.
    if ref in html5 and not m.string.startswith("=", m.end()):
        return html5[ref]
    return m.group(0)


def unescape_attr(value: str) -> str:
    """Decode character references in an attribute value the way browsers do.

    Unlike `html.unescape`, ``&region=1`` or ``&copy=2`` inside a URL stay as written.
    """
    if "&" not in value:
        return value
    return _CHARREF.sub(_charref, value)


# An unquoted value ends at whitespace or ">", and one starting with a quote is not unquoted.
_NEEDS_QUOTES = re.compile(r"""[\s>]|^["']""")


def escape_attr(value: str, quote: str) -> str:
    """`value` serialized for an attribute originally quoted with `quote` ('"', "'" or "").

    An unquoted value that cannot stay unquoted comes back wrapped in double quotes.
    """
    value = value.replace("&", "&amp;")
    if not quote:
        if value and not _NEEDS_QUOTES.search(value):
            return value
        return '"' + value.replace('"', "&quot;") + '"'
    if quote == '"':
        return value.replace('"', "&quot;")
    return value.replace("'", "&#39;")


# --------------------------------------------------------------------------------------
# srcset and meta refresh
# --------------------------------------------------------------------------------------


def rewrite_srcset(value: str, rewrite: Callable[[str], str]) -> str:
    """`value` with every candidate URL replaced by `rewrite(url)`."""
    pieces: list[str] = []
    last = 0
    for start, end in srcset_url_spans(value):
        url = value[start:end]
        new = rewrite(url)
        if new != url:
            pieces.append(value[last:start])
            pieces.append(new)
            last = end
    if not pieces:
        return value
    pieces.append(value[last:])
    return "".join(pieces)


# --------------------------------------------------------------------------------------
# What to rewrite
# --------------------------------------------------------------------------------------

# Kinds of attribute value.
_URL = 0  # a single URL, rewritten with the given modifier
_SRCSET = 1  # a srcset list of URLs ("im_")
_CSS = 2  # a style attribute
_LINK = 3  # <link href>: modifier depends on rel and as
_REFRESH_CONTENT = 4  # <meta content> (only for http-equiv=refresh)
_BASE = 5  # <base href>
_DROP = 6  # attribute removed
_NONE = 7  # only read (meta http-equiv): makes the tag worth a look

_Spec = tuple[int, str]

_IM: _Spec = (_URL, "im_")
_PAGE: _Spec = (_URL, "")
_OE: _Spec = (_URL, "oe_")

_TAG_ATTRS: dict[str, dict[str, _Spec]] = {
    "a": {"href": _PAGE, "xlink:href": _PAGE},
    "area": {"href": _PAGE},
    "link": {"href": (_LINK, ""), "imagesrcset": (_SRCSET, "im_")},
    "img": {"src": _IM, "srcset": (_SRCSET, "im_"), "longdesc": _PAGE},
    "source": {"src": _IM, "srcset": (_SRCSET, "im_")},
    "input": {"src": _IM, "formaction": _PAGE},
    "button": {"formaction": _PAGE},
    "script": {"src": (_URL, "js_")},
    "iframe": {"src": (_URL, "if_")},
    "frame": {"src": (_URL, "if_")},
    "embed": {"src": _OE},
    "object": {"data": _OE},
    "video": {"src": _OE, "poster": _IM},
    "audio": {"src": _OE},
    "track": {"src": _OE},
    "form": {"action": _PAGE},
    "body": {"background": _IM},
    "table": {"background": _IM},
    "td": {"background": _IM},
    "th": {"background": _IM},
    "blockquote": {"cite": _PAGE},
    "q": {"cite": _PAGE},
    "del": {"cite": _PAGE},
    "ins": {"cite": _PAGE},
    # SVG
    "image": {"href": _IM},
    "use": {"href": _IM},
    "feimage": {"href": _IM},
    "meta": {"content": (_REFRESH_CONTENT, ""), "http-equiv": (_NONE, "")},
    "base": {"href": (_BASE, "")},
}
# Attributes whose value decides how others are rewritten.
_AUX_ATTRS = frozenset({"rel", "as", "http-equiv"})
# Attributes handled on every element.
_GLOBAL_ATTRS: dict[str, _Spec] = {
    "style": (_CSS, ""),
    "integrity": (_DROP, ""),
    "xlink:href": _IM,
}

_ICON_RELS = frozenset(
    {"icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon", "fluid-icon"}
)
_PRELOAD_AS = {"style": "cs_", "script": "js_", "image": "im_"}


def link_modifier(rel: str, as_: str) -> str:
    """The modifier for a <link href> with the given rel and as attributes."""
    tokens = rel.lower().split()
    if "stylesheet" in tokens:
        return "cs_"
    if _ICON_RELS.intersection(tokens):
        return "im_"
    if "modulepreload" in tokens:
        return "js_"
    if "preload" in tokens or "prefetch" in tokens:
        return _PRELOAD_AS.get(as_.strip().lower(), "")
    return ""


# Elements allowed in <head>: any other start tag begins the body.
_HEAD_TAGS = frozenset(
    {
        "html", "head", "base", "basefont", "bgsound", "link", "meta", "noscript",
        "script", "style", "template", "title",
    }
)  # fmt: skip
# Elements whose content browsers treat as text: nothing inside is rewritten.
_TEXT_ONLY = frozenset({"title", "textarea", "xmp"})
# Elements whose content does not start the body (text or tags inside them).
_NO_BODY_START = _TEXT_ONLY | {"noscript", "template"}

# The standard library tokenizer's patterns (as of the 2025 security releases, which
# follow the HTML spec more closely than Python 3.11.7's), used to locate attribute values
# inside the text of a start tag.
_TAGFIND = re.compile(r"([a-zA-Z][^\t\n\r\f />]*)(?:[\t\n\r\f ]|/(?!>))*")
_ATTRFIND = re.compile(
    r"""((?<=['"\t\n\r\f /])[^\t\n\r\f />][^\t\n\r\f /=>]*)"""  # name
    r"""([\t\n\r\f ]*=[\t\n\r\f ]*('[^']*'|"[^"]*"|(?!['"])[^>\t\n\r\f ]*))?"""  # value
    r"""(?:[\t\n\r\f ]|/(?!>))*"""
)

_WS_OR_BOM = _WS + "\ufeff"


# --------------------------------------------------------------------------------------
# The tokenizer-driven rewriter
# --------------------------------------------------------------------------------------


class _Tokenizer(HTMLParser):
    """HTMLParser subclass that copies consumed input to `out`, with replacements."""

    def __init__(self, rewriter: UrlRewriter, head_insert: str, body_insert: str) -> None:
        self.out: list[str] = []
        self.rewriter = rewriter
        self._cache: dict[tuple[str, str], str] = {}  # (url, modifier) -> rewritten
        self.head_insert = head_insert
        self.body_insert = body_insert
        self.head_done = False
        self.body_done = False
        self.base_seen = False
        self.style_buf: list[str] | None = None  # content of the open <style>
        self.special: str | None = None  # open title/textarea/xmp/noscript/template
        self.special_depth = 0
        self.pos = 0  # end of the last span emitted, in the current rawdata
        # What the next updatepos() emits instead of / around the raw span.
        self._dirty = False
        self._before = ""
        self._rep: str | None = None
        self._after = ""
        self._enter_style = False
        self._guard = False
        super().__init__(convert_charrefs=False)

    # -- emission --------------------------------------------------------------------

    def updatepos(self, i: int, j: int) -> int:
        if self._guard:
            return j  # _markupbase's internal call right before it raises
        if self._dirty:
            self._dirty = False
            out = self.out
            if self._before:
                out.append(self._before)
                self._before = ""
            if self._rep is not None:
                out.append(self._rep)
                self._rep = None
            elif i < j:
                out.append(self.rawdata[i:j])
            if self._after:
                out.append(self._after)
                self._after = ""
            if self._enter_style:
                self._enter_style = False
                self.style_buf = []
        elif i < j:
            buf = self.style_buf
            if buf is None:
                self.out.append(self.rawdata[i:j])
            else:
                buf.append(self.rawdata[i:j])
        self.pos = j
        return j

    def flush_style(self) -> None:
        buf = self.style_buf
        if buf is not None:
            self.style_buf = None
            self.out.append(rewrite_css("".join(buf), self.rewriter))

    def pending_inserts(self) -> str:
        """The inserts still owed at a point where the body has started."""
        text = ""
        if not self.head_done:
            self.head_done = True
            text = self.head_insert
        if not self.body_done:
            self.body_done = True
            text += self.body_insert
        return text

    def parse_html_declaration(self, i: int) -> int:
        # _markupbase raises AssertionError on some malformed "<![...": browsers treat
        # those as a bogus comment ending at the next ">", and so do we.
        self._guard = True
        try:
            return super().parse_html_declaration(i)
        except AssertionError:
            gt = self.rawdata.find(">", i + 2)
            return -1 if gt < 0 else gt + 1
        finally:
            self._guard = False

    # -- handlers --------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if self.style_buf is not None:
            self.flush_style()
        special = self.special
        if special is not None:
            if tag == special:
                self.special_depth += 1
            if special in _TEXT_ONLY:
                return
        spec = _TAG_ATTRS.get(tag)
        for name, _ in attrs:
            if name in _GLOBAL_ATTRS or (spec is not None and name in spec):
                rep = self._rewrite_tag(tag, spec)
                if rep is not None:
                    self._rep = rep
                    self._dirty = True
                break
        if special is None:
            if not self.body_done:
                self._place_inserts(tag)
            if not closed and tag in _NO_BODY_START:
                self.special = tag
                self.special_depth = 1
        if tag == "style" and not closed:
            self._enter_style = True
            self._dirty = True

    def _place_inserts(self, tag: str) -> None:
        if not self.head_done:
            if tag == "html":
                return
            self.head_done = True
            if tag == "head":
                self._after = self.head_insert
                self._dirty = True
                return
            self._before = self.head_insert
            self._dirty = True
        if tag in ("body", "frameset"):  # (inside a frameset it is inert, but harmless)
            self.body_done = True
            self._after += self.body_insert
            self._dirty = True
        elif tag not in _HEAD_TAGS:
            self.body_done = True
            self._before += self.body_insert
            self._dirty = True

    def handle_endtag(self, tag: str) -> None:
        if self.style_buf is not None:
            self.flush_style()
        if tag == self.special:
            self.special_depth -= 1
            if self.special_depth <= 0:
                self.special = None

    def handle_data(self, data: str) -> None:
        if self.body_done or self.special is not None or self.cdata_elem is not None:
            return
        rest = data.lstrip(_WS_OR_BOM)
        if rest:  # text outside the head: the body starts here
            k = len(data) - len(rest)
            self._rep = data[:k] + self.pending_inserts() + rest
            self._dirty = True

    def _text_ref(self) -> None:
        if self.body_done or self.special is not None or self.cdata_elem is not None:
            return
        self._before = self.pending_inserts()
        self._dirty = True

    def handle_entityref(self, name: str) -> None:
        self._text_ref()

    def handle_charref(self, name: str) -> None:
        self._text_ref()

    # -- start tag rewriting ---------------------------------------------------------

    def _url(self, url: str, modifier: str) -> str:
        key = (url, modifier)
        new = self._cache.get(key)
        if new is None:
            try:
                new = self.rewriter.rewrite(url, modifier)
            except ValueError:  # unparsable URL (e.g. a bad IPv6 host): leave it
                new = url
            self._cache[key] = new
        return new

    def _image_url(self, url: str) -> str:
        return self._url(url, "im_")

    def _rewrite_tag(self, tag: str, spec: dict[str, _Spec] | None) -> str | None:
        """The new text of the current start tag; "" to drop it; None if unchanged."""
        text = self.get_starttag_text()
        if not text:
            return None
        m = _TAGFIND.match(text, 1)
        if m is None:
            return None
        # Attributes to act on: (kind, modifier, raw value or None, value start, value end,
        # quote, attribute start, attribute end); plus the values rel/as/http-equiv.
        found: list[tuple[int, str, str | None, int, int, str, int, int]] = []
        aux: dict[str, str] = {}
        glob = _GLOBAL_ATTRS
        k = m.end()
        n = len(text)
        while k < n:
            am = _ATTRFIND.match(text, k)
            if am is None:
                break
            k = am.end()
            name = am.group(1).lower()
            kind_mod = spec.get(name) if spec is not None else None
            if kind_mod is None:
                kind_mod = glob.get(name)
                if kind_mod is None and name not in _AUX_ATTRS:
                    continue
            if am.group(2):
                vs, ve = am.span(3)
                aend = ve
                quote = text[vs] if vs < ve else ""
                if quote in ("'", '"') and ve - vs >= 2 and text[ve - 1] == quote:
                    vs += 1
                    ve -= 1
                else:
                    quote = ""
                raw: str | None = text[vs:ve]
            else:
                vs = ve = aend = am.end(1)
                quote = ""
                raw = None
            if kind_mod is None or kind_mod[0] == _NONE:  # rel, as, http-equiv: first counts
                if name not in aux:
                    aux[name] = unescape_attr(raw) if raw else ""
                continue
            found.append((*kind_mod, raw, vs, ve, quote, am.start(1), aend))

        refresh = False
        if tag == "meta":
            equiv = aux.get("http-equiv", "").strip().lower()
            if equiv == "content-security-policy":
                return ""
            refresh = equiv == "refresh"

        edits: list[tuple[int, int, str]] = []
        new_base: str | None = None
        for kind, modifier, raw, vs, ve, quote, astart, aend in found:
            if kind == _DROP:
                edits.append(_removal(text, astart, aend))
                continue
            if raw is None:
                continue
            value = unescape_attr(raw)
            if kind == _URL:
                new = self._url(value, modifier)
            elif kind == _SRCSET:
                new = rewrite_srcset(value, self._image_url)
            elif kind == _CSS:
                new = rewrite_css(value, self.rewriter)
            elif kind == _LINK:
                mod = link_modifier(aux.get("rel", ""), aux.get("as", ""))
                new = self._url(value, mod)
            elif kind == _REFRESH_CONTENT:
                span = meta_refresh_url_span(value) if refresh else None
                if span is None:
                    continue
                a, b = span
                new = value[:a] + self._url(value[a:b], "") + value[b:]
            else:  # _BASE
                new = self._url(value, "")
                if not self.base_seen:
                    new_base = value
            if new != value:
                edits.append((vs, ve, escape_attr(new, quote)))

        if new_base is not None:
            self.base_seen = True
            with contextlib.suppress(ValueError):
                self.rewriter = self.rewriter.with_base(new_base)
                self._cache.clear()
        if not edits:
            return None
        pieces: list[str] = []
        last = 0
        for start, end, replacement in edits:
            pieces.append(text[last:start])
            pieces.append(replacement)
            last = end
        pieces.append(text[last:])
        return "".join(pieces)


def _removal(text: str, start: int, end: int) -> tuple[int, int, str]:
    """An edit removing text[start:end] (an attribute) and the whitespace that goes with it."""
    after = end
    while after < len(text) and text[after] in _WS:
        after += 1
    if after > end:
        return (start, after, "")
    if text.startswith((">", "/"), end):
        while start > 0 and text[start - 1] in _WS:
            start -= 1
    return (start, end, "")


class HtmlRewriter:
    """Rewrites an HTML document fed in chunks of text.

    `feed()` returns the rewritten output that is ready (the tokenizer holds back an
    incomplete tag, and the content of an open ``<style>`` or ``<script>`` element, until
    it is complete); `close()` returns the rest. Concatenating everything returned gives
    the same text however the input was split.
    """

    def __init__(self, rewriter: UrlRewriter, head_insert: str = "", body_insert: str = "") -> None:
        self._tok = _Tokenizer(rewriter, head_insert, body_insert)
        self._broken = False
        self._closed = False

    def _take(self) -> str:
        out = self._tok.out
        if not out:
            return ""
        text = "".join(out)
        out.clear()
        return text

    def _give_up(self) -> None:
        """After an unexpected error: pass everything not yet emitted through unchanged."""
        _log.warning("HTML rewriting failed; passing the rest through", exc_info=True)
        tok = self._tok
        rest = tok.rawdata[tok.pos :]
        tok.flush_style()
        # Inserts already placed but not yet emitted still go out (once).
        tok.out.append(tok._before + tok._after)
        tok.out.append(rest)
        tok.rawdata = ""
        self._broken = True

    def feed(self, chunk: str) -> str:
        """Add `chunk` of the document; return the output that is ready."""
        if self._closed:
            raise ValueError("feed() after close()")
        tok = self._tok
        if self._broken:
            tok.out.append(chunk)
            return self._take()
        tok.pos = 0
        try:
            tok.feed(chunk)
        except Exception:
            self._give_up()
        return self._take()

    def close(self) -> str:
        """Flush whatever is left of the document; return the final output."""
        if self._closed:
            return ""
        self._closed = True
        tok = self._tok
        if not self._broken:
            tok.pos = 0
            try:
                tok.close()
            except Exception:
                self._give_up()
        # An unclosed <script> or <style> leaves its content in the tokenizer's buffer.
        if tok.rawdata:
            leftover = tok.rawdata
            tok.rawdata = ""
            if tok.style_buf is not None:
                tok.style_buf.append(leftover)
            else:
                tok.out.append(leftover)
        tok.flush_style()
        if not tok.head_done:
            tok.out.append(tok.head_insert)
            tok.head_done = True
        if not tok.body_done:
            tok.out.append(tok.body_insert)
            tok.body_done = True
        return self._take()


def rewrite_html(
    html: str, rewriter: UrlRewriter, head_insert: str = "", body_insert: str = ""
) -> str:
    """Rewrite a whole HTML document (see `HtmlRewriter`)."""
    r = HtmlRewriter(rewriter, head_insert, body_insert)
    return r.feed(html) + r.close()
