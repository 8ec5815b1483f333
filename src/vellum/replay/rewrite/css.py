"""Find and rewrite the URLs in CSS text.

The scanner is a single regular expression that knows just enough CSS tokenization to be
safe: comments and strings that are not URLs are skipped (so ``content: "url(x)"`` is left
alone), ``url()`` is recognised in its unquoted and quoted forms, ``@import`` in its string
and ``url()`` forms, and the strings inside ``image-set()`` / ``-webkit-image-set()``.
Everything outside the URL characters themselves is preserved exactly.

The same scanner serves the crawler (`vellum.capture.links`) so that capture and replay
agree on which URLs a stylesheet contains.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from vellum.replay.urlrewriter import UrlRewriter

__all__ = ["CssUrl", "css_unescape", "css_urls", "rewrite_css"]

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


def _css_escape(url: str, quote: str) -> str:
    """`url` made safe to stand between `quote` characters (or unquoted in url())."""
    url = url.replace("\\", "\\\\")
    if quote:
        return url.replace(quote, "\\" + quote).replace("\n", "\\a ")
    out = []
    for ch in url:
        if ch in "()\"' \t\n\r\f":
            out.append(f"\\{ord(ch):x} " if ch in "\t\n\r\f" else "\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def rewrite_css(css: str, rewriter: UrlRewriter) -> str:
    """`css` with every URL pointed into the archive; all other text is kept as is.

    `@import` targets get the "cs_" modifier; every other URL (images, fonts, ...) "im_".
    """
    tokens = css_urls(css)
    if not tokens:
        return css
    pieces: list[str] = []
    last = 0
    for tok in tokens:
        raw = css[tok.start : tok.end]
        url = css_unescape(raw)
        try:
            new = rewriter.rewrite(url, "cs_" if tok.kind == "import" else "im_")
        except ValueError:  # e.g. an invalid IPv6 host: leave it alone
            continue
        if new == url:
            continue
        pieces.append(css[last : tok.start])
        pieces.append(_css_escape(new, tok.quote))
        last = tok.end
    if not pieces:
        return css
    pieces.append(css[last:])
    return "".join(pieces)
