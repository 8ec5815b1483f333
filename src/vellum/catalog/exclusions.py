"""Take-down requests as stored: a URL, a SURT prefix or a host of a collection.

The check every route makes is in `vellum.access.exclusions`; this module adds, lists
and removes the rows. `value` is the SURT form the check compares capture keys with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from vellum.catalog.catalog import Catalog
from vellum.catalog.models import CollectionRow, ExclusionRow
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, NotFound
from vellum.urls.surt import surt, surt_host

KINDS = ("url", "prefix", "host")
URL_MAX = 2048
REASON_MAX = 2000


@dataclass(frozen=True)
class Exclusion:
    """One take-down: what was typed, its SURT form, why, by whom and when."""

    id: int
    collection_slug: str
    kind: str
    value: str
    original: str
    reason: str
    created_by: str
    created: datetime


def surt_form(kind: str, target: str) -> str:
    """The SURT key (url), SURT prefix (prefix) or `host)` prefix (host) of `target`."""
    target = target.strip()
    if not target:
        raise InvalidInput("which URL, prefix or host? none given")
    if len(target) > URL_MAX:
        raise InvalidInput(f"a URL has at most {URL_MAX} characters")
    if any(ord(c) < 0x21 for c in target):
        raise InvalidInput("a URL cannot hold spaces or control characters")
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}: use {', '.join(KINDS)}")
    with_scheme = target if "://" in target else f"http://{target}"
    parts = urlsplit(with_scheme)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username:
        raise InvalidInput(f"not a web URL or host: {target!r}")
    if kind == "host":
        if parts.path not in ("", "/") or parts.query:
            raise InvalidInput("a host is a name such as example.org, without a path")
        return surt_host(parts.hostname) + ")"
    key = surt(with_scheme)
    if kind == "prefix" and parts.path.endswith("/") and not key.endswith("/"):
        key += "/"  # /private/ must not cover /privateer
    return key


class Exclusions:
    """Add, list and remove the take-downs of collections."""

    def __init__(self, catalog: Catalog, clock: Clock = system_clock) -> None:
        self._catalog = catalog
        self._clock = clock

    def add(self, slug: str, kind: str, target: str, reason: str, by: str = "") -> Exclusion:
        """Exclude a URL, a SURT prefix or a host from collection `slug`, with a reason."""
        value = surt_form(kind, target)
        reason = reason.strip()
        if not reason:
            raise InvalidInput("an exclusion needs a reason")
        if len(reason) > REASON_MAX:
            raise InvalidInput(f"a reason has at most {REASON_MAX} characters")
        with self._catalog.transaction() as s:
            collection = s.scalars(select(CollectionRow).where(CollectionRow.slug == slug)).first()
            if collection is None:
                raise NotFound(f"no collection {slug!r} (see 'vellum collection list')")
            row = ExclusionRow(
                collection_id=collection.id,
                kind=kind,
                value=value,
                original=target.strip(),
                reason=reason,
                created_by=by,
                created=self._clock(),
            )
            s.add(row)
            s.flush()
            return _exclusion(row, slug)

    def list(self, slug: str) -> list[Exclusion]:
        """The exclusions of collection `slug`, oldest first."""
        with self._catalog.transaction() as s:
            collection = s.scalars(select(CollectionRow).where(CollectionRow.slug == slug)).first()
            if collection is None:
                raise NotFound(f"no collection {slug!r} (see 'vellum collection list')")
            rows = s.scalars(
                select(ExclusionRow)
                .where(ExclusionRow.collection_id == collection.id)
                .order_by(ExclusionRow.id)
            )
            return [_exclusion(r, slug) for r in rows]

    def get(self, exclusion_id: int) -> Exclusion:
        with self._catalog.transaction() as s:
            row = s.get(ExclusionRow, exclusion_id)
            if row is None:
                raise NotFound(f"no exclusion {exclusion_id} (see 'vellum exclude list SLUG')")
            slug = s.scalar(select(CollectionRow.slug).where(CollectionRow.id == row.collection_id))
            return _exclusion(row, slug or "")

    def remove(self, exclusion_id: int) -> Exclusion:
        """Lift an exclusion; its captures are visible again on every route at once."""
        gone = self.get(exclusion_id)
        with self._catalog.transaction() as s:
            row = s.get(ExclusionRow, exclusion_id)
            if row is not None:
                s.delete(row)
        return gone


def _exclusion(row: ExclusionRow, slug: str) -> Exclusion:
    created = row.created if row.created.tzinfo else row.created.replace(tzinfo=UTC)
    return Exclusion(
        row.id, slug, row.kind, row.value, row.original, row.reason, row.created_by, created
    )


__all__ = ["KINDS", "Exclusion", "Exclusions", "surt_form"]
