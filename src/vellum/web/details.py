"""What the portal shows beside a collection's title: its organization, Dublin Core, seeds.

Read straight from the catalog tables (read only; the admin pages write them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from vellum.catalog import Catalog
from vellum.catalog.dublin_core import DC_ELEMENTS
from vellum.catalog.models import CollectionRow, OrganizationRow, SeedRow

__all__ = ["DC_ELEMENTS", "Details", "Seed", "active_seeds", "collection_details"]

MAX_SEEDS = 500


@dataclass(frozen=True)
class Details:
    """A collection's organization (with its logo and contact) and Dublin Core."""

    organization: str
    acronym: str
    logo_url: str  # "" unless an http(s) URL
    contact: str
    dublin_core: tuple[tuple[str, tuple[str, ...]], ...]  # (element, values), in DC order


@dataclass(frozen=True)
class Seed:
    """An active seed, as the public sees it."""

    url: str
    scope: str
    frequency: str


def collection_details(catalog: Catalog, slugs: list[str]) -> dict[str, Details]:
    """The details of these collections, by slug, in one query."""
    if not slugs:
        return {}
    with catalog.transaction() as s:
        rows = s.execute(
            select(CollectionRow.slug, CollectionRow.dublin_core, OrganizationRow)
            .join(OrganizationRow, CollectionRow.organization_id == OrganizationRow.id)
            .where(CollectionRow.slug.in_(slugs))
        ).all()
        return {
            slug: Details(
                org.name,
                org.acronym,
                _web_url(org.logo_url or ""),
                org.contact or "",
                parse_dublin_core(dc or "{}"),
            )
            for slug, dc, org in rows
        }


def active_seeds(catalog: Catalog, slug: str, limit: int = MAX_SEEDS) -> tuple[list[Seed], int]:
    """Up to `limit` active seeds of a collection, by URL, and how many there are."""
    with catalog.transaction() as s:
        rows = s.execute(
            select(SeedRow.url, SeedRow.scope, SeedRow.frequency)
            .join(CollectionRow, SeedRow.collection_id == CollectionRow.id)
            .where(CollectionRow.slug == slug, SeedRow.active.is_(True))
            .order_by(SeedRow.url)
        ).all()
    return [Seed(u, sc, f) for u, sc, f in rows[:limit]], len(rows)


def parse_dublin_core(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`{element: [values]}` JSON as (element, values) pairs; anything malformed is skipped."""
    try:
        data = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(data, dict):
        return ()
    pairs = []
    for element in DC_ELEMENTS:
        value = data.get(element)
        values = value if isinstance(value, list) else [value]
        kept = tuple(str(v) for v in values if isinstance(v, str | int | float) and str(v).strip())
        if kept:
            pairs.append((element, kept))
    return tuple(pairs)


def _web_url(url: str) -> str:
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""
