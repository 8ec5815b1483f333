"""Wayback-style replay paths: `<timestamp><modifier>/<url>` after the collection prefix."""

from __future__ import annotations

import re
from dataclasses import dataclass

MODIFIERS = ("id_", "mp_", "if_", "fr_", "js_", "cs_", "im_", "oe_")
_TS_MOD = re.compile(r"^([0-9]{1,14})([a-z]{2}_)?/(.*)$", re.DOTALL)
_LIST = re.compile(r"^([0-9]{0,14})\*/(.*)$", re.DOTALL)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):/*")


@dataclass(frozen=True)
class ReplayTarget:
    """A parsed replay request. `timestamp` is "" for the latest capture."""

    url: str
    timestamp: str = ""
    modifier: str = ""
    listing: bool = False  # `*/url`: all versions


def parse_replay_path(rest: str) -> ReplayTarget:
    """Parse what follows `/<collection>/` in a replay URL (raw, not form-decoded).

    `20151229231410/http://x/`, `2015im_/x`, `*/http://x/` and bare `http://x/` are all
    accepted; a slash collapsed by a proxy (`http:/x`) and a missing scheme are repaired.
    """
    listing = _LIST.match(rest)
    if listing:
        return ReplayTarget(
            url=repair_url(listing.group(2)), timestamp=listing.group(1), listing=True
        )
    match = _TS_MOD.match(rest)
    if match and (match.group(2) is None or match.group(2) in MODIFIERS):
        return ReplayTarget(
            url=repair_url(match.group(3)), timestamp=match.group(1), modifier=match.group(2) or ""
        )
    return ReplayTarget(url=repair_url(rest))


def repair_url(url: str) -> str:
    """`http:/x` → `http://x`; `x.org/a` → `http://x.org/a`; `//x` → `http://x`."""
    if url.startswith("//"):
        return "http:" + url
    match = _SCHEME.match(url)
    if match and match.group(1).lower() in ("http", "https"):
        return f"{match.group(1).lower()}://{url[match.end() :]}"
    if match and match.group(0).endswith("//"):
        return url
    return "http://" + url


def replay_path(collection: str, timestamp: str, url: str, modifier: str = "") -> str:
    """The replay path of a capture: `/<collection>/<timestamp><modifier>/<url>`."""
    return f"/{collection}/{timestamp}{modifier}/{url}"
