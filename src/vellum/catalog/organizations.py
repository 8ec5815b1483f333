"""Organizations in full (contact, logo): read, create, edit and delete them."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vellum.catalog.catalog import Catalog
from vellum.catalog.models import (
    ApiTokenRow,
    CollectionRow,
    MembershipRow,
    OrganizationRow,
)
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, NotFound, VellumError

NAME_MAX = 300
ACRONYM_MAX = 50
CONTACT_MAX = 500
LOGO_MAX = 2000


@dataclass(frozen=True)
class OrganizationRecord:
    """An organization with everything the admin pages show and edit."""

    id: int
    name: str
    acronym: str
    contact: str
    logo_url: str
    collections: tuple[str, ...]  # slugs of the collections it owns
    members: int


@dataclass(frozen=True)
class OrganizationFields:
    """What a person enters for an organization (checked by `check`)."""

    name: str
    acronym: str
    contact: str = ""
    logo_url: str = ""

    def check(self) -> OrganizationFields:
        """These fields stripped, or InvalidInput naming the first field that is wrong."""
        name, acronym = self.name.strip(), self.acronym.strip()
        contact, logo = self.contact.strip(), self.logo_url.strip()
        if not name:
            raise InvalidInput("an organization needs a name")
        if len(name) > NAME_MAX:
            raise InvalidInput(f"an organization's name has at most {NAME_MAX} characters")
        if not acronym:
            raise InvalidInput("an organization needs an acronym")
        if len(acronym) > ACRONYM_MAX:
            raise InvalidInput(f"an acronym has at most {ACRONYM_MAX} characters")
        if len(contact) > CONTACT_MAX:
            raise InvalidInput(f"a contact has at most {CONTACT_MAX} characters")
        if len(logo) > LOGO_MAX:
            raise InvalidInput(f"a logo URL has at most {LOGO_MAX} characters")
        if logo:
            parts = urlsplit(logo)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise InvalidInput("a logo URL must be an http:// or https:// URL")
        return OrganizationFields(name, acronym, contact, logo)


class Organizations:
    """The organizations of the catalog, for the admin pages and `vellum org`."""

    def __init__(self, catalog: Catalog, clock: Clock = system_clock) -> None:
        self._catalog = catalog
        self._clock = clock

    def list(self) -> list[OrganizationRecord]:
        """Every organization, by name."""
        with self._catalog.transaction() as s:
            rows = s.scalars(select(OrganizationRow).order_by(OrganizationRow.name)).all()
            return [self._record(s, r) for r in rows]

    def get(self, key: int | str) -> OrganizationRecord:
        """The organization with this id, or this name or acronym (ignoring case)."""
        with self._catalog.transaction() as s:
            return self._record(s, _find(s, key))

    def create(self, fields: OrganizationFields) -> OrganizationRecord:
        """Add an organization; its name and acronym must both be new."""
        fields = fields.check()
        with self._catalog.transaction() as s:
            _refuse_duplicate(s, fields, None)
            row = OrganizationRow(
                name=fields.name,
                acronym=fields.acronym,
                contact=fields.contact,
                logo_url=fields.logo_url,
                created=self._clock(),
            )
            s.add(row)
            try:
                s.flush()
            except IntegrityError:
                raise _duplicate(fields) from None
            return self._record(s, row)

    def update(self, key: int | str, fields: OrganizationFields) -> OrganizationRecord:
        """Change an organization's name, acronym, contact and logo URL."""
        fields = fields.check()
        with self._catalog.transaction() as s:
            row = _find(s, key)
            _refuse_duplicate(s, fields, row.id)
            row.name, row.acronym = fields.name, fields.acronym
            row.contact, row.logo_url = fields.contact, fields.logo_url
            try:
                s.flush()
            except IntegrityError:
                raise _duplicate(fields) from None
            return self._record(s, row)

    def delete(self, key: int | str) -> OrganizationRecord:
        """Remove an organization that owns no collection (else VellumError saying so)."""
        with self._catalog.transaction() as s:
            row = _find(s, key)
            record = self._record(s, row)
            if record.collections:
                listed = ", ".join(record.collections[:10])
                more = len(record.collections) - 10
                tail = f" and {more} more" if more > 0 else ""
                raise VellumError(
                    f"organization {row.acronym!r} still owns "
                    f"{len(record.collections)} collection(s) ({listed}{tail}); "
                    "delete them or give them to another organization first"
                )
            for membership in s.scalars(
                select(MembershipRow).where(MembershipRow.organization_id == row.id)
            ):
                s.delete(membership)
            for token in s.scalars(
                select(ApiTokenRow).where(ApiTokenRow.organization_id == row.id)
            ):
                s.delete(token)
            s.delete(row)
            return record

    @staticmethod
    def _record(s: Session, row: OrganizationRow) -> OrganizationRecord:
        slugs = s.scalars(
            select(CollectionRow.slug)
            .where(CollectionRow.organization_id == row.id)
            .order_by(CollectionRow.slug)
        ).all()
        members = s.scalar(
            select(func.count())
            .select_from(MembershipRow)
            .where(MembershipRow.organization_id == row.id)
        )
        return OrganizationRecord(
            row.id,
            row.name,
            row.acronym,
            row.contact or "",
            row.logo_url or "",
            tuple(slugs),
            int(members or 0),
        )


def _find(s: Session, key: int | str) -> OrganizationRow:
    if isinstance(key, int):
        row = s.get(OrganizationRow, key)
    else:
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


def _refuse_duplicate(s: Session, fields: OrganizationFields, own_id: int | None) -> None:
    clash = s.scalars(
        select(OrganizationRow).where(
            (func.lower(OrganizationRow.name) == fields.name.lower())
            | (func.lower(OrganizationRow.acronym) == fields.acronym.lower())
        )
    ).all()
    if any(r.id != own_id for r in clash):
        raise _duplicate(fields)


def _duplicate(fields: OrganizationFields) -> VellumError:
    return VellumError(
        f"an organization named {fields.name!r} or with acronym {fields.acronym!r} already exists"
    )


__all__ = ["OrganizationFields", "OrganizationRecord", "Organizations"]
