"""Exclusions (take-downs) and embargoes: which captures a principal may not see.

The one place every route asks (replay, TimeMaps, the `*/` list and calendar, the CDX
API, search hits, exports). A collection's rules are its exclusions as SURT prefixes
(a sorted tuple, nested prefixes dropped, so one `bisect` finds the only candidate)
and exact SURT keys, plus its embargo in days. They are kept in memory and read again
when the catalog changes: for SQLite, when the database file's size, time or inode
changes (one `stat` per check; while the file was modified in the last `SETTLE`
seconds, rules are also read again every `REREAD` seconds, so a change landing in
the same clock tick as an earlier one is seen too); for PostgreSQL, when the catalog's
generation (catalog/generation.py, bumped by every writing transaction) changes, read
once per `RECHECK` seconds at most. Replay workers are separate processes: each sees
a change at its next check.

Exclusions hold for everyone on the public routes; an embargo holds for anyone who is
not an administrator or a member of the owning organization.
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import HTTPConnection

from vellum.access.policy import ANONYMOUS, Principal
from vellum.access.web import principal_from_request
from vellum.catalog import Catalog, Collection
from vellum.catalog.models import CollectionRow, ExclusionRow
from vellum.clock import Clock, system_clock
from vellum.index.cdxj import Capture
from vellum.settings import Settings
from vellum.urls.surt import surt

__all__ = ["AccessRules", "Rules", "View", "is_member"]

SETTLE = 2.0
REREAD = 0.05  # seconds: while the file is unsettled, rules are read at most this often
RECHECK = 0.02  # seconds a PostgreSQL catalog's generation is reused


def is_member(principal: Principal, collection: Collection) -> bool:
    """An administrator or a member (curator or viewer) of the owning organization."""
    return principal.admin or collection.organization.id in principal.organizations


# Replay asks about the same URLs again and again: their SURT keys are remembered.
_surt = lru_cache(maxsize=8192)(surt)


@dataclass(frozen=True)
class Rules:
    """A collection's exclusions and embargo, ready for cheap checks."""

    prefixes: tuple[str, ...] = ()  # sorted, none a prefix of another
    exact: frozenset[str] = frozenset()
    embargo_days: int = 0

    @classmethod
    def build(cls, items: Iterable[tuple[str, str]], embargo_days: int) -> Rules:
        """Rules from (kind, SURT value) pairs."""
        exact: set[str] = set()
        prefixes: list[str] = []
        for kind, value in items:
            if kind == "url":
                exact.add(value)
            else:
                prefixes.append(value)
        kept: list[str] = []
        for p in sorted(set(prefixes)):
            if not kept or not p.startswith(kept[-1]):
                kept.append(p)
        return cls(tuple(kept), frozenset(exact), max(0, embargo_days))

    @property
    def empty(self) -> bool:
        return not self.prefixes and not self.exact and not self.embargo_days

    def excluded_key(self, urlkey: str) -> bool:
        """Is this SURT key (a capture's `urlkey`) excluded?"""
        if urlkey in self.exact:
            return True
        i = bisect_right(self.prefixes, urlkey) - 1
        return i >= 0 and urlkey.startswith(self.prefixes[i])

    def excluded_url(self, url: str) -> bool:
        """Is this URL excluded?"""
        if not self.prefixes and not self.exact:
            return False
        try:
            return self.excluded_key(_surt(url))
        except ValueError:
            return False


@dataclass(frozen=True)
class View:
    """What one principal may see of one collection's captures, at one time."""

    rules: Rules
    cutoff: str  # captures with a timestamp at or after this are embargoed; "" for none

    @property
    def unrestricted(self) -> bool:
        return not self.rules.prefixes and not self.rules.exact and not self.cutoff

    def hides_url(self, url: str) -> bool:
        return self.rules.excluded_url(url)

    def allows(self, capture: Capture) -> bool:
        """May this capture be shown (listed, replayed, exported, found)?"""
        if self.cutoff and capture.timestamp >= self.cutoff[: len(capture.timestamp)]:
            return False
        return not self.rules.excluded_key(capture.urlkey)

    def allows_at(self, url: str, timestamp: str) -> bool:
        """The same for a capture known by URL and timestamp (a search hit)."""
        if self.cutoff and timestamp >= self.cutoff[: len(timestamp)]:
            return False
        return not self.rules.excluded_url(url)

    def filter(self, captures: Iterable[Capture]) -> Iterator[Capture]:
        if self.unrestricted:
            yield from captures
            return
        for capture in captures:
            if self.allows(capture):
                yield capture


class AccessRules:
    """The rules of every collection, kept while the catalog is unchanged (see module doc)."""

    def __init__(
        self, catalog: Catalog, path: Path | None = None, clock: Clock = system_clock
    ) -> None:
        self._catalog = catalog
        self._path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._rules: dict[int, tuple[object, float, Rules]] = {}
        self._looked: tuple[float, object] = (-RECHECK, None)

    @classmethod
    def of(cls, catalog: Catalog, settings: Settings) -> AccessRules:
        """The rules of the catalog `settings` name (its SQLite file watched, if it is one)."""
        return cls(catalog, settings.catalog_path if settings.database_url is None else None)

    def rules(self, collection: Collection) -> Rules:
        """The exclusions and embargo of a collection, as they are now."""
        stamp = self._stamp()
        now = time.monotonic()
        with self._lock:
            held = self._rules.get(collection.id)
        # An unchanged file: reuse, unless it changed so lately that another change in the
        # same clock tick could hide behind the same stamp (then re-read, but not more
        # often than every REREAD seconds).
        fresh = stamp is not None and (
            self._stable(stamp) or (held is not None and now - held[1] < REREAD)
        )
        if held is not None and held[0] == stamp and fresh:
            return held[2]
        rules = self._load(collection.id)
        if stamp is not None:
            with self._lock:
                self._rules[collection.id] = (stamp, now, rules)
        return rules

    def view(self, principal: Principal, collection: Collection) -> View:
        """What `principal` may see of `collection`'s captures."""
        rules = self.rules(collection)
        cutoff = ""
        if rules.embargo_days and not is_member(principal, collection):
            since = self._clock() - timedelta(days=rules.embargo_days)
            cutoff = since.strftime("%Y%m%d%H%M%S")
        return View(rules, cutoff)

    def for_request(self, request: HTTPConnection | None, collection: Collection) -> View:
        """What the asker of `request` may see (anonymous if None); reads a session only
        when the collection has an embargo."""
        rules = self.rules(collection)
        if not rules.embargo_days:
            return View(rules, "")
        principal = ANONYMOUS if request is None else principal_from_request(request, self._catalog)
        return self.view(principal, collection)

    def _load(self, collection_id: int) -> Rules:
        with self._catalog.transaction() as s:
            embargo = s.scalar(
                select(CollectionRow.embargo_days).where(CollectionRow.id == collection_id)
            )
            items = s.execute(
                select(ExclusionRow.kind, ExclusionRow.value).where(
                    ExclusionRow.collection_id == collection_id
                )
            ).all()
        return Rules.build(((k, v) for k, v in items), int(embargo or 0))

    def _stamp(self) -> object:
        """What identifies the catalog's current state, or None when it cannot be told."""
        if self._path is None:  # PostgreSQL: the catalog's generation, read every RECHECK s
            now = time.monotonic()
            when, stamp = self._looked
            if now - when >= RECHECK or stamp is None:
                try:
                    stamp = ("generation", self._catalog.generation())
                except SQLAlchemyError:
                    stamp = None
                self._looked = (now, stamp)
            return stamp
        try:  # a stat is about a microsecond: done on every look, so nothing is missed
            st = os.stat(self._path)
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns, st.st_ino)

    def _stable(self, stamp: object) -> bool:
        if isinstance(stamp, tuple) and len(stamp) == 3 and isinstance(stamp[1], int):
            return time.time_ns() - stamp[1] > SETTLE * 1e9
        return True
