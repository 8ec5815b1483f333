"""The HTTP headers of a replayed capture, made from the archived ones.

Archived headers are kept as a list of pairs from start to end, so that headers a server
sent several times (`Set-Cookie`, `Link`) stay several. Each archived header is kept,
rewritten to point into the archive, or renamed `X-Archive-Orig-<Name>`, as pywb does:

- kept: what describes the payload we send (`Content-Type`, `Content-Disposition`,
  `Content-Language`, `Allow`, `Accept-Patch`), and `Content-Encoding` when the stored
  bytes go out as they are;
- rewritten: `Location`, `Content-Location`, `Content-Base` (URLs into the archive),
  `Link` (each target), `Refresh` (its `url=`), `Set-Cookie` (scoped to the collection's
  replay path: no `Domain`, `Path=/<slug>/`, no `Secure` over plain HTTP);
- renamed: everything else, among them `Content-Length` and `Transfer-Encoding` (they
  describe the stored message), `Date`, caching headers, CSP, HSTS, `X-Frame-Options`,
  CORS headers, `Vary` and every hop-by-hop header.

URL-bearing headers are rewritten with every modifier, `id_` included: an unrewritten
`Location` would send the browser out of the archive (an open redirect).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

from vellum.replay.rewrite.html import link_modifier
from vellum.replay.urlrewriter import UrlRewriter

__all__ = ["PREFIX", "HeaderContext", "replay_headers", "rewrite_cookie", "rewrite_link"]

PREFIX = "X-Archive-Orig-"
_KEEP = frozenset(
    {"content-type", "content-disposition", "content-language", "allow", "accept-patch"}
)
_URL = frozenset({"location", "content-location", "content-base"})
_REFRESH = re.compile(r"""^(\s*[0-9.]*\s*[;,]?\s*(?:url\s*=\s*)?)(['"]?)(.*?)\2\s*$""", re.I)
_PARAM = re.compile(r"""\b(rel|as)\s*=\s*(?:"([^"]*)"|([^\s;,]*))""", re.I)


@dataclass(frozen=True)
class HeaderContext:
    """What the rewriting of one capture's headers depends on."""

    rewriter: UrlRewriter  # resolves against the capture's URL
    modifier: str  # the modifier asked for ("" for none)
    cookie_path: str  # `/<slug>/`: where archived cookies are scoped
    secure: bool  # the replay request came over HTTPS
    body_as_stored: bool  # the payload goes out with its Content-Encoding intact


def replay_headers(
    archived: Iterable[tuple[str, str]], ctx: HeaderContext
) -> list[tuple[str, str]]:
    """The headers to send for a capture's archived headers, in their order."""
    out: list[tuple[str, str]] = []
    for name, value in archived:
        lowered = name.lower()
        if lowered in _KEEP or (lowered == "content-encoding" and ctx.body_as_stored):
            out.append((name, value))
        elif lowered in _URL:
            out.append((name, _rewrite_url(value, ctx)))
        elif lowered == "link":
            out.append((name, rewrite_link(value, ctx.rewriter)))
        elif lowered == "refresh":
            out.append((name, rewrite_refresh(value, ctx)))
        elif lowered == "set-cookie":
            out.append((name, rewrite_cookie(value, ctx.cookie_path, ctx.secure)))
        elif lowered.startswith("x-archive-orig-"):
            out.append((name, value))  # renamed already by whoever wrote the WARC
        else:
            out.append((PREFIX + name, value))
    return out


def _rewrite_url(value: str, ctx: HeaderContext) -> str:
    stripped = value.strip()
    if not stripped:
        return value
    return ctx.rewriter.rewrite(urljoin(ctx.rewriter.base_url, stripped), ctx.modifier)


def rewrite_refresh(value: str, ctx: HeaderContext) -> str:
    """`5; url=http://x/` → `5; url=/<slug>/<ts>/http://x/` (a bare delay is left alone)."""
    match = _REFRESH.match(value)
    if not match or not match.group(3).strip():
        return value
    lead, quote, url = match.groups()
    return f"{lead}{quote}{_rewrite_url(url, ctx)}{quote}"


def rewrite_link(value: str, rewriter: UrlRewriter) -> str:
    """Every `<target>` of a Link header value rewritten into the archive, params kept."""
    parts = []
    for link in _split_links(value):
        match = re.match(r"\s*<([^>]*)>(.*)$", link, re.DOTALL)
        if not match:
            parts.append(link.strip())
            continue
        target, params = match.groups()
        modifier = _link_modifier(params)
        rewritten = rewriter.rewrite(urljoin(rewriter.base_url, target.strip()), modifier)
        parts.append(f"<{rewritten}>{params}")
    return ", ".join(parts)


def _link_modifier(params: str) -> str:
    """The modifier the HTML rewriter gives a <link> with the same rel and as."""
    found = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(params)}
    return link_modifier(found.get("rel", ""), found.get("as", ""))


def _split_links(value: str) -> list[str]:
    """Split a Link value at the commas between links (not those inside `<>` or quotes)."""
    parts: list[str] = []
    start = 0
    in_url = in_quote = False
    for i, ch in enumerate(value):
        if in_quote:
            in_quote = ch != '"'
        elif in_url:
            in_url = ch != ">"
        elif ch == "<":
            in_url = True
        elif ch == '"':
            in_quote = True
        elif ch == ",":
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return [p for p in parts if p.strip()]


def rewrite_cookie(value: str, path: str, secure: bool) -> str:
    """A Set-Cookie value scoped to `path` on the replay host.

    `Domain` is dropped (the cookie then belongs to the replay host only), `Path` becomes
    `path` (timestamps differ from page to page, so nothing narrower would match), and
    over plain HTTP `Secure` and `SameSite=None` (which needs `Secure`) are dropped, or
    the browser would refuse the cookie. Everything else (`Expires`, `Max-Age`,
    `HttpOnly`, `SameSite=Lax`…) is kept as archived.
    """
    pieces = [p.strip() for p in value.split(";")]
    out = [pieces[0]]
    for attr in pieces[1:]:
        if not attr:
            continue
        name, _, attr_value = attr.partition("=")
        key = name.strip().lower()
        if key in ("domain", "path"):
            continue
        if not secure and (
            key == "secure" or (key == "samesite" and attr_value.strip().lower() == "none")
        ):
            continue
        out.append(attr)
    out.append(f"Path={path}")
    return "; ".join(out)
