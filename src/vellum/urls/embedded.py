"""Find the URLs embedded in CSS text and in HTML attribute values (srcset, meta refresh).

Pure scanners shared by capture (which follows the URLs) and replay (which rewrites
them), so that both agree on what a stylesheet or an attribute refers to.

The CSS scanner is a single regular expression that knows just enough CSS tokenization to
be safe: comments and strings that are not URLs are skipped (so ``content: "url(x)"`` is
left alone), ``url()`` is recognised in its unquoted and quoted forms, ``@import`` in its
string and ``url()`` forms, and the strings inside ``image-set()`` /
``-webkit-image-set()``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["CssUrl", "css_unescape", "css_urls", "meta_refresh_url_span", "srcset_url_spans"]

_WS = " \t\n\r\f"  # ASCII whitespace as HTML defines it

# A string body: no raw newline (that would make it a bad-string), escapes allowed.
_DQ = r'(?:[^"\\\n]|\\[\s\S])*'
_SQ = r"(?:[^'\\\n]|\\[\s\S])*"
# An unquoted url() body: no quotes, parentheses or whitespace unless escaped.
_UQ = r"""(?:[^"'()\\\s]|\\[\s\S])+"""

_URL_BODY = rf"""(?:"(?P<{{0}}d>{_DQ})"|'(?P<{{0}}s>{_SQ})'|(?P<{{0}}u>{_UQ}))"""

_TOKEN = re.compile(
    rf"""
    /\*[\s\S]*?(?:\*/|\Z)                                       # comment
  | @(?i:import)\s*(?:(?i:url)\(\s*{_URL_BODY.format("iu")}\s*\)
                    |"(?P<id>{_DQ})"|'(?P<is>{_SQ})')            # @import
  | (?<![\w-])(?i:url)\(\s*{_URL_BODY.format("u")}\s*\)          # url()
  | (?P<set>(?<![\w-])(?:-webkit-)?(?i:image-set)\()            # image-set(
  | "{_DQ}"?|'{_SQ}'?                                           # other strings
    """,
    re.VERBOSE,
)

# Inside image-set(): strings at nesting depth 1 are URLs; parentheses are counted so
# that strings in nested functions such as type("image/avif") are not.
_SET_TOKEN = re.compile(
    rf"""
    /\*[\s\S]*?(?:\*/|\Z)
  | (?<![\w-])(?i:url)\(\s*{_URL_BODY.format("u")}\s*\)
  | "(?P<d>{_DQ})"?|'(?P<s>{_SQ})'?
  | (?P<open>\()
  | (?P<close>\))
    """,
    re.VERBOSE,
)

_GROUPS = (
    ("iud", '"', "import"),
    ("ius", "'", "import"),
    ("iuu", "", "import"),
    ("id", '"', "import"),
    ("is", "'", "import"),
    ("ud", '"', "url"),
    ("us", "'", "url"),
    ("uu", "", "url"),
)
_SET_GROUPS = (("ud", '"', "url"), ("us", "'", "url"), ("uu", "", "url"))

_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|([\s\S]))|\\$")


class CssUrl(NamedTuple):
    """One URL in CSS text: `css[start:end]` is its raw (still escaped) text."""

    start: int
    end: int
    quote: str  # '"', "'" or "" (unquoted url())
    kind: str  # "import" (a stylesheet) or "url" (an image, font, ...)


def _scan_set(css: str, pos: int, found: list[CssUrl]) -> int:
    """Collect URLs inside image-set( ... ) starting after its "("; return the end."""
    depth = 1
    n = len(css)
    while pos < n:
        m = _SET_TOKEN.search(css, pos)
        if m is None:
            return n
        pos = m.end()
        last = m.lastgroup
        if last == "open":
            depth += 1
        elif last == "close":
            depth -= 1
            if depth == 0:
                return pos
        elif last in ("d", "s"):
            start, end = m.span(last)
            # Only a closed, non-empty string at depth 1 is a URL.
            if depth == 1 and pos > end > start:
                found.append(CssUrl(start, end, css[start - 1], "url"))
        elif last is not None:
            for name, quote, kind in _SET_GROUPS:
                if m.start(name) >= 0:
                    found.append(CssUrl(m.start(name), m.end(name), quote, kind))
                    break
    return n


def css_urls(css: str) -> list[CssUrl]:
    """Every URL reference in `css`, in source order (empty ones are skipped)."""
    found: list[CssUrl] = []
    pos = 0
    n = len(css)
    search = _TOKEN.search
    while pos < n:
        m = search(css, pos)
        if m is None:
            break
        pos = m.end()
        last = m.lastgroup
        if last is None:
            continue  # comment or plain string
        if last == "set":
            pos = _scan_set(css, pos, found)
            continue
        for name, quote, kind in _GROUPS:
            start = m.start(name)
            if start >= 0:
                end = m.end(name)
                if end > start:
                    found.append(CssUrl(start, end, quote, kind))
                break
    return found


def _unescape_one(m: re.Match[str]) -> str:
    hexa, char = m.group(1), m.group(2)
    if hexa:
        code = int(hexa, 16)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "\ufffd"
        return chr(code)
    if char is None or char == "\n":
        return ""  # escaped newline (string continuation) or a lone trailing backslash
    return char


def css_unescape(raw: str) -> str:
    """The value of a CSS string or unquoted url() body with escapes resolved."""
    if "\\" not in raw:
        return raw
    return _ESCAPE.sub(_unescape_one, raw)


def srcset_url_spans(value: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of each candidate URL in a srcset value.

    Follows the HTML spec's "parse a srcset attribute" algorithm: candidates are separated
    by commas; a URL runs to the next whitespace (trailing commas are not part of it, so
    ``a.png,b.png`` is two URLs while ``data:image/png;base64,AAA 1x`` is one); the
    descriptors after it run to the next comma that is not inside parentheses.
    """
    spans: list[tuple[int, int]] = []
    n = len(value)
    pos = 0
    while True:
        while pos < n and (value[pos] in _WS or value[pos] == ","):
            pos += 1
        if pos >= n:
            return spans
        start = pos
        while pos < n and value[pos] not in _WS:
            pos += 1
        end = pos
        if value[end - 1] == ",":
            while end > start and value[end - 1] == ",":
                end -= 1
            if end > start:
                spans.append((start, end))
            continue  # no descriptors after a URL that ended with a comma
        spans.append((start, end))
        in_parens = False
        while pos < n:
            c = value[pos]
            pos += 1
            if c == "(":
                in_parens = True
            elif c == ")":
                in_parens = False
            elif c == "," and not in_parens:
                break


_REFRESH = re.compile(
    r"[ \t\n\r\f]*(?:[0-9]+[0-9.]*|\.[0-9.]*)"  # the delay
    r"(?:[ \t\n\r\f]*[;,][ \t\n\r\f]*|[ \t\n\r\f]+)"  # separator
    r"(?:[Uu][Rr][Ll][ \t\n\r\f]*=[ \t\n\r\f]*)?"  # optional "url="
)


def meta_refresh_url_span(content: str) -> tuple[int, int] | None:
    """The (start, end) offsets of the URL in a meta refresh `content`, if it has one.

    Accepts the forms browsers accept: ``5; url=/x``, ``0;URL='/x'``, ``3, /x``, ``0 /x``.
    """
    m = _REFRESH.match(content)
    if m is None:
        return None
    start = m.end()
    end = len(content)
    if start < end and content[start] in "'\"":
        quote = content[start]
        start += 1
        close = content.find(quote, start)
        if close >= 0:
            end = close
    while end > start and content[end - 1] in _WS:
        end -= 1
    if end <= start:
        return None
    return start, end
