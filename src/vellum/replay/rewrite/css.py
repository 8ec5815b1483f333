"""Rewrite the URLs in CSS text, preserving everything around them exactly.

The URLs are found by `vellum.urls.embedded.css_urls`, the scanner the crawler uses too.
"""

from __future__ import annotations

from vellum.replay.urlrewriter import UrlRewriter
from vellum.urls.embedded import css_unescape, css_urls

__all__ = ["rewrite_css"]


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
