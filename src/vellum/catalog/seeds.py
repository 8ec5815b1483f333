"""Seeds of a collection: URL, scope, rules and limits, frequency, notes, Dublin Core."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vellum.capture.fetch import check_url
from vellum.capture.outlinks import normalize
from vellum.capture.scope import DEFAULT_MAX_HOPS, SCOPE_TYPES, ScopeRules, Seed
from vellum.catalog.catalog import Catalog
from vellum.catalog.dublin_core import ALL_DC_ELEMENTS
from vellum.catalog.models import CollectionRow, SeedRow
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, NotFound
from vellum.jobs.frequency import ONE_TIME, check_frequency, next_slot, recurring, utc

URL_MAX = 2048
NOTES_MAX = 4000
DC_VALUE_MAX = 1000
PATTERNS_MAX = 50
DC_ELEMENTS = ALL_DC_ELEMENTS  # a seed keeps all fifteen
LIMIT_NAMES = ("documents", "bytes", "seconds")


@dataclass(frozen=True)
class SeedRules:
    """What a seed's crawl may follow, and its limits (None: no limit)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_re: tuple[str, ...] = ()
    exclude_re: tuple[str, ...] = ()
    max_hops: int = DEFAULT_MAX_HOPS
    limits: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "include": list(self.include),
            "exclude": list(self.exclude),
            "include_re": list(self.include_re),
            "exclude_re": list(self.exclude_re),
            "max_hops": self.max_hops,
            "limits": {k: v for k, v in self.limits.items() if v is not None},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeedRules:
        return cls(
            include=tuple(data.get("include") or ()),
            exclude=tuple(data.get("exclude") or ()),
            include_re=tuple(data.get("include_re") or ()),
            exclude_re=tuple(data.get("exclude_re") or ()),
            max_hops=int(data.get("max_hops", DEFAULT_MAX_HOPS)),
            limits=dict(data.get("limits") or {}),
        )


@dataclass(frozen=True)
class StoredSeed:
    """A seed as the catalog holds it."""

    id: int
    collection_slug: str
    url: str
    scope: str
    rules: SeedRules
    frequency: str
    active: bool
    notes: str
    dublin_core: dict[str, list[str]]
    created: datetime
    next_due: datetime | None
    last_crawl_id: int | None


def check_seed_url(url: str) -> str:
    """The seed URL normalized (http or https, a host), or InvalidInput saying why."""
    url = url.strip()
    if not url:
        raise InvalidInput("a seed needs a URL")
    if len(url) > URL_MAX:
        raise InvalidInput(f"a seed URL has at most {URL_MAX} characters")
    if "://" not in url and " " not in url and "." in url.split("/")[0]:
        url = "http://" + url  # "example.org/news" as people type it
    checked = normalize(check_url(url))
    if checked is None:
        raise InvalidInput(f"malformed URL {url!r}")
    parts = urlsplit(checked)  # one seed per site however its name was typed
    user, at, host = parts.netloc.rpartition("@")
    netloc = user + at + host.lower()
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=netloc))


def check_scope(scope: str) -> str:
    """A scope type: page, path, host or domain."""
    value = scope.strip().lower() or "host"
    if value not in SCOPE_TYPES:
        raise InvalidInput(f"unknown scope {scope!r}: use one of {', '.join(SCOPE_TYPES)}")
    return value


def check_rules(url: str, scope: str, rules: SeedRules) -> SeedRules:
    """Refuse rules the crawler would refuse (bad regexes, negative hops, silly limits)."""
    for name in ("include", "exclude", "include_re", "exclude_re"):
        values = getattr(rules, name)
        if len(values) > PATTERNS_MAX:
            raise InvalidInput(f"at most {PATTERNS_MAX} {name.replace('_', ' ')} patterns")
        if any(len(v) > URL_MAX for v in values):
            raise InvalidInput(
                f"a {name.replace('_', ' ')} pattern has at most {URL_MAX} characters"
            )
    for name, value in rules.limits.items():
        if name not in LIMIT_NAMES:
            raise InvalidInput(f"unknown limit {name!r}: use {', '.join(LIMIT_NAMES)}")
        if value is not None and value <= 0:
            raise InvalidInput(f"the {name} limit must be more than 0")
    ScopeRules(
        (Seed(url, scope),),
        rules.include,
        rules.exclude,
        rules.include_re,
        rules.exclude_re,
        rules.max_hops,
    )  # raises InvalidInput for a bad regex or negative hops
    return rules


def check_notes(notes: str) -> str:
    """Notes stripped, or InvalidInput if they are too long."""
    notes = notes.strip()
    if len(notes) > NOTES_MAX:
        raise InvalidInput(f"notes have at most {NOTES_MAX} characters")
    return notes


def check_dublin_core(values: dict[str, list[str]]) -> dict[str, list[str]]:
    """Known elements only, each value stripped and bounded; empty ones dropped."""
    clean: dict[str, list[str]] = {}
    for element, items in values.items():
        if element not in DC_ELEMENTS:
            raise InvalidInput(f"unknown Dublin Core element {element!r}")
        kept = [v.strip() for v in items if v.strip()]
        if any(len(v) > DC_VALUE_MAX for v in kept):
            raise InvalidInput(f"a {element} value has at most {DC_VALUE_MAX} characters")
        if kept:
            clean[element] = kept
    return clean


class Seeds:
    """Add, list, change and remove the seeds of collections."""

    def __init__(self, catalog: Catalog, clock: Clock = system_clock) -> None:
        self._catalog = catalog
        self._clock = clock

    def add(
        self,
        slug: str,
        url: str,
        scope: str = "host",
        frequency: str = ONE_TIME,
        rules: SeedRules | None = None,
        notes: str = "",
        dublin_core: dict[str, list[str]] | None = None,
    ) -> StoredSeed:
        """Add a seed to collection `slug`; a recurring one is first due at once."""
        collection = self._catalog.get_collection(slug)
        url, scope = check_seed_url(url), check_scope(scope)
        frequency = check_frequency(frequency)
        rules = check_rules(url, scope, rules or SeedRules())
        now = self._clock()
        try:
            with self._catalog.transaction() as s:
                row = SeedRow(
                    collection_id=collection.id,
                    url=url,
                    scope=scope,
                    rules=json.dumps(rules.to_json()),
                    frequency=frequency,
                    active=True,
                    notes=check_notes(notes),
                    dublin_core=json.dumps(check_dublin_core(dublin_core or {})),
                    created=now,
                    next_due=now if recurring(frequency) else None,
                )
                s.add(row)
                s.flush()
                return _seed(row, slug)
        except IntegrityError:
            raise InvalidInput(f"{url} is already a seed of {slug}") from None

    def of(self, slug: str) -> list[StoredSeed]:
        """The seeds of collection `slug`, oldest first."""
        self._catalog.get_collection(slug)
        with self._catalog.transaction() as s:
            rows = s.scalars(
                select(SeedRow)
                .join(CollectionRow)
                .where(CollectionRow.slug == slug)
                .order_by(SeedRow.id)
            )
            return [_seed(r, slug) for r in rows]

    def get(self, seed_id: int) -> StoredSeed:
        with self._catalog.transaction() as s:
            row = s.get(SeedRow, seed_id)
            if row is None:
                raise NotFound(f"no seed {seed_id} (see 'vellum seed list SLUG')")
            return _seed(row, row.collection.slug)

    def update(
        self,
        seed_id: int,
        *,
        scope: str | None = None,
        frequency: str | None = None,
        rules: SeedRules | None = None,
        notes: str | None = None,
        active: bool | None = None,
        dublin_core: dict[str, list[str]] | None = None,
    ) -> StoredSeed:
        """Change a seed; a new frequency moves its next run to the next slot from now."""
        with self._catalog.transaction() as s:
            row = s.get(SeedRow, seed_id)
            if row is None:
                raise NotFound(f"no seed {seed_id} (see 'vellum seed list SLUG')")
            new_scope = check_scope(scope) if scope is not None else row.scope
            new_rules = rules if rules is not None else SeedRules.from_json(json.loads(row.rules))
            check_rules(row.url, new_scope, new_rules)
            row.scope = new_scope
            row.rules = json.dumps(new_rules.to_json())
            if notes is not None:
                row.notes = check_notes(notes)
            if dublin_core is not None:
                row.dublin_core = json.dumps(check_dublin_core(dublin_core))
            if frequency is not None:
                frequency = check_frequency(frequency)
                if frequency != row.frequency:
                    row.frequency = frequency
                    now = self._clock()
                    row.next_due = (
                        next_slot(utc(row.created), frequency, now)
                        if recurring(frequency)
                        else None
                    )
            if active is not None:
                row.active = active
            return _seed(row, row.collection.slug)

    def remove(self, seed_id: int) -> StoredSeed:
        """Delete a seed (its crawls and WARC files stay)."""
        with self._catalog.transaction() as s:
            row = s.get(SeedRow, seed_id)
            if row is None:
                raise NotFound(f"no seed {seed_id} (see 'vellum seed list SLUG')")
            gone = _seed(row, row.collection.slug)
            s.delete(row)
            return gone


def _seed(row: SeedRow, slug: str) -> StoredSeed:
    return StoredSeed(
        id=row.id,
        collection_slug=slug,
        url=row.url,
        scope=row.scope,
        rules=SeedRules.from_json(json.loads(row.rules or "{}")),
        frequency=row.frequency,
        active=row.active,
        notes=row.notes,
        dublin_core=json.loads(row.dublin_core or "{}"),
        created=utc(row.created),
        next_due=utc(row.next_due) if row.next_due is not None else None,
        last_crawl_id=row.last_crawl_id,
    )


__all__ = ["DC_ELEMENTS", "SeedRules", "Seeds", "StoredSeed", "check_seed_url"]
