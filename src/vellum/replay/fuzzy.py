"""Fuzzy matching: find a capture for a URL that differs only in cache-busting parameters.

Scripts add parameters that change on every load (`app.js?_=1699999999`, a JSONP
`callback=jQuery1234_5678`), so the URL a replayed page asks for was never captured even
though the resource was. When the exact URL has no capture, the rules in
`fuzzy_rules.json` (data, not code: see that file) say which query parameters to ignore;
a capture of the same host and path whose other parameters are equal answers instead.

The candidates are read with one prefix query on `<host><path>?` plus the exact
parameter-less URL, so the cost is bounded by `SCAN_LIMIT` index lines.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vellum.index.cdxj import Capture
from vellum.index.query import CdxQuery, MatchType
from vellum.index.store import IndexStore
from vellum.urls.surt import surt

__all__ = ["SCAN_LIMIT", "FuzzyRule", "fuzzy_candidates", "load_rules", "reduce_url"]

SCAN_LIMIT = 2000


@dataclass(frozen=True)
class FuzzyRule:
    """Ignore some query parameters of URLs that match `url_regex` ("" matches all)."""

    name: str
    url_regex: re.Pattern[str]
    ignore_params: frozenset[str]
    ignore_param_regex: re.Pattern[str] | None

    def applies_to(self, url: str) -> bool:
        return self.url_regex.search(url) is not None

    def ignores(self, param: str) -> bool:
        if param in self.ignore_params:
            return True
        return self.ignore_param_regex is not None and bool(self.ignore_param_regex.match(param))


def parse_rules(data: object) -> tuple[FuzzyRule, ...]:
    """Rules from the JSON document's structure; ValueError says what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ValueError('fuzzy rules must be an object with a "rules" list')
    rules = []
    for i, raw in enumerate(data["rules"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ValueError(f"fuzzy rule {i} needs a name")
        params = raw.get("ignore_params", [])
        pattern = raw.get("ignore_param_regex")
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise ValueError(f"fuzzy rule {raw['name']!r}: ignore_params must be a list of names")
        if not params and not pattern:
            raise ValueError(f"fuzzy rule {raw['name']!r} ignores nothing")
        try:
            rules.append(
                FuzzyRule(
                    name=raw["name"],
                    url_regex=re.compile(raw.get("url_regex", "")),
                    ignore_params=frozenset(params),
                    ignore_param_regex=re.compile(pattern) if pattern else None,
                )
            )
        except re.error as exc:
            raise ValueError(f"fuzzy rule {raw['name']!r}: bad regular expression: {exc}") from exc
    return tuple(rules)


@cache
def load_rules() -> tuple[FuzzyRule, ...]:
    """The rules shipped in `fuzzy_rules.json` (read once)."""
    text = resources.files("vellum.replay").joinpath("fuzzy_rules.json").read_text("utf-8")
    return parse_rules(json.loads(text))


def reduce_url(url: str, rule: FuzzyRule) -> str:
    """The URL without the parameters `rule` ignores (order and the rest kept)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not rule.ignores(k)]
    return urlunsplit(parts._replace(query=urlencode(kept), fragment=""))


def _base(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="", fragment=""))


def fuzzy_candidates(
    store: IndexStore, url: str, rules: Sequence[FuzzyRule] | None = None
) -> list[Capture]:
    """Captures that stand for `url` under the first rule that finds any; [] if none.

    Revisits are included (the caller resolves them); the order is the index's.
    """
    for rule in rules if rules is not None else load_rules():
        if not rule.applies_to(url):
            continue
        wanted = surt(reduce_url(url, rule))
        found = [c for c in _nearby(store, url) if surt(reduce_url(c.url, rule)) == wanted]
        if found:
            return found
    return []


def _nearby(store: IndexStore, url: str) -> Iterator[Capture]:
    """Captures of the URL without its query, and of the URL with any query."""
    base = _base(url)
    exact = store.query(CdxQuery(base, limit=SCAN_LIMIT))
    with_query = store.query(CdxQuery(base + "?", match_type=MatchType.PREFIX, limit=SCAN_LIMIT))
    return itertools.chain(exact, with_query)
