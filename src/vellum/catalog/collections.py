"""Collections in full: Dublin Core, embargo, owner; create, edit and delete them.

Deleting a collection never removes its files: its directory (WARCs, indexes) is moved
to `<data>/trash/<slug>-<UTC timestamp>/` first, and the caller is told where.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from vellum.catalog.catalog import _RESERVED_SLUGS, _SLUG, Catalog
from vellum.catalog.dublin_core import DC_ELEMENTS
from vellum.catalog.models import (
    CollectionRow,
    CrawlJobRow,
    CrawlRow,
    CrawlStateRow,
    ExclusionRow,
    OrganizationRow,
    SeedRow,
    WarcFileRow,
)
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, NotFound, VellumError

TITLE_MAX = 300
DESCRIPTION_MAX = 10_000
DC_VALUE_MAX = 1_000
DC_VALUES_MAX = 50
EMBARGO_MAX = 36_500  # days: a hundred years

DublinCore = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class CollectionFields:
    """What a person enters for a collection (checked by `check`)."""

    title: str
    organization: str  # name or acronym
    description: str = ""
    public: bool = True
    dublin_core: DublinCore = field(default_factory=dict)
    embargo_days: int = 0

    def check(self) -> CollectionFields:
        """These fields cleaned up, or InvalidInput naming the first one that is wrong."""
        title, description = self.title.strip(), self.description.strip()
        if not title:
            raise InvalidInput("a collection needs a title")
        if len(title) > TITLE_MAX:
            raise InvalidInput(f"a title has at most {TITLE_MAX} characters")
        if len(description) > DESCRIPTION_MAX:
            raise InvalidInput(f"a description has at most {DESCRIPTION_MAX} characters")
        if not self.organization.strip():
            raise InvalidInput("a collection needs an owning organization")
        if not 0 <= self.embargo_days <= EMBARGO_MAX:
            raise InvalidInput(f"an embargo is 0 to {EMBARGO_MAX} days")
        return CollectionFields(
            title,
            self.organization.strip(),
            description,
            self.public,
            check_dublin_core(self.dublin_core),
            self.embargo_days,
        )


@dataclass(frozen=True)
class CollectionRecord:
    """A collection with everything the admin pages show and edit."""

    id: int
    slug: str
    title: str
    description: str
    public: bool
    organization_id: int
    organization: str  # its acronym
    dublin_core: DublinCore
    embargo_days: int


def check_dublin_core(values: DublinCore) -> DublinCore:
    """Known elements only, blank values dropped, sizes bounded (else InvalidInput)."""
    cleaned: DublinCore = {}
    for element, given in values.items():
        if element not in DC_ELEMENTS:
            raise InvalidInput(f"unknown Dublin Core element {element!r}")
        kept = tuple(v.strip() for v in given if v.strip())
        if len(kept) > DC_VALUES_MAX:
            raise InvalidInput(f"{element}: at most {DC_VALUES_MAX} values")
        for value in kept:
            if len(value) > DC_VALUE_MAX:
                raise InvalidInput(f"{element}: a value has at most {DC_VALUE_MAX} characters")
        if kept:
            cleaned[element] = kept
    return cleaned


def check_slug(slug: str) -> str:
    """A valid new collection slug, or InvalidInput saying why not."""
    if not _SLUG.match(slug) or slug in _RESERVED_SLUGS:
        raise InvalidInput(
            f"invalid collection slug {slug!r}: use lowercase letters, digits and '-' "
            "(at most 63), starting with a letter or digit, and not a reserved word"
        )
    return slug


class Collections:
    """The collections of the catalog, for the admin pages and `vellum collection`."""

    def __init__(self, catalog: Catalog, clock: Clock = system_clock) -> None:
        self._catalog = catalog
        self._clock = clock

    def list(self) -> list[CollectionRecord]:
        """Every collection, by slug."""
        with self._catalog.transaction() as s:
            query = (
                select(CollectionRow)
                .order_by(CollectionRow.slug)
                .options(joinedload(CollectionRow.organization))
            )
            return [_record(r) for r in s.scalars(query)]

    def get(self, slug: str) -> CollectionRecord:
        with self._catalog.transaction() as s:
            return _record(_find(s, slug))

    def create(self, slug: str, fields: CollectionFields) -> CollectionRecord:
        """Add a collection; the slug must be new."""
        slug = check_slug(slug.strip())
        fields = fields.check()
        with self._catalog.transaction() as s:
            org = _organization(s, fields.organization)
            if s.scalars(select(CollectionRow.id).where(CollectionRow.slug == slug)).first():
                raise VellumError(f"a collection {slug!r} already exists")
            row = CollectionRow(slug=slug, organization_id=org.id, created=self._clock())
            _apply(row, fields, org)
            s.add(row)
            try:
                s.flush()
            except IntegrityError:
                raise VellumError(f"a collection {slug!r} already exists") from None
            return _record(row)

    def update(self, slug: str, fields: CollectionFields) -> CollectionRecord:
        """Change everything of a collection but its slug."""
        fields = fields.check()
        with self._catalog.transaction() as s:
            row = _find(s, slug)
            org = _organization(s, fields.organization)
            _apply(row, fields, org)
            s.flush()
            return _record(row)

    def delete(self, slug: str, data_dir: Path) -> Path | None:
        """Remove a collection from the catalog, its directory moved to the trash first.

        Answers where the directory went (None if it had none). If the catalog cannot
        be changed, the directory is moved back: nothing is lost either way.
        """
        self.get(slug)  # NotFound before anything moves
        source = data_dir / "collections" / slug
        moved: Path | None = None
        if source.exists():
            stamp = self._clock().strftime("%Y%m%dT%H%M%SZ")
            trash = data_dir / "trash"
            trash.mkdir(parents=True, exist_ok=True)
            moved = trash / f"{slug}-{stamp}"
            n = 1
            while moved.exists():
                n += 1
                moved = trash / f"{slug}-{stamp}-{n}"
            shutil.move(str(source), str(moved))
        try:
            with self._catalog.transaction() as s:
                _delete_rows(s, _find(s, slug).id)
        except BaseException:
            if moved is not None and not source.exists():
                shutil.move(str(moved), str(source))
            raise
        return moved


def _delete_rows(s: Session, collection_id: int) -> None:
    """Every row that belongs to a collection, then the collection itself."""
    crawl_ids = select(CrawlRow.id).where(CrawlRow.collection_id == collection_id)
    s.execute(delete(CrawlJobRow).where(CrawlJobRow.collection_id == collection_id))
    s.execute(delete(SeedRow).where(SeedRow.collection_id == collection_id))
    s.execute(delete(ExclusionRow).where(ExclusionRow.collection_id == collection_id))
    s.execute(delete(WarcFileRow).where(WarcFileRow.collection_id == collection_id))
    s.execute(delete(CrawlStateRow).where(CrawlStateRow.crawl_id.in_(crawl_ids)))
    s.execute(delete(CrawlRow).where(CrawlRow.collection_id == collection_id))
    s.execute(delete(CollectionRow).where(CollectionRow.id == collection_id))


def _apply(row: CollectionRow, fields: CollectionFields, org: OrganizationRow) -> None:
    row.title, row.description, row.public = fields.title, fields.description, fields.public
    row.organization_id = org.id
    row.organization = org
    row.dublin_core = json.dumps({k: list(v) for k, v in fields.dublin_core.items()})
    row.embargo_days = fields.embargo_days


def _find(s: Session, slug: str) -> CollectionRow:
    query = (
        select(CollectionRow)
        .where(CollectionRow.slug == slug)
        .options(joinedload(CollectionRow.organization))
    )
    row = s.scalars(query).first()
    if row is None:
        raise NotFound(f"no collection {slug!r} (see 'vellum collection list')")
    return row


def _organization(s: Session, key: str) -> OrganizationRow:
    wanted = key.strip().lower()
    row = s.scalars(
        select(OrganizationRow).where(
            (func.lower(OrganizationRow.name) == wanted)
            | (func.lower(OrganizationRow.acronym) == wanted)
        )
    ).first()
    if row is None:
        raise NotFound(f"no organization named {key!r} (see 'vellum org list')")
    return row


def _record(row: CollectionRow) -> CollectionRecord:
    return CollectionRecord(
        row.id,
        row.slug,
        row.title,
        row.description or "",
        row.public,
        row.organization_id,
        row.organization.acronym,
        _parse_dc(row.dublin_core or "{}"),
        row.embargo_days or 0,
    )


def _parse_dc(text: str) -> DublinCore:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    out: DublinCore = {}
    for element in DC_ELEMENTS:
        value = data.get(element)
        values = value if isinstance(value, list) else [value]
        kept = tuple(str(v) for v in values if isinstance(v, str | int | float) and str(v).strip())
        if kept:
            out[element] = kept
    return out


__all__ = [
    "DC_ELEMENTS",
    "CollectionFields",
    "CollectionRecord",
    "Collections",
    "DublinCore",
    "check_dublin_core",
    "check_slug",
]
