"""The admin side of users: make or unmake a site admin, end a membership."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from vellum.catalog.catalog import Catalog
from vellum.catalog.models import MembershipRow, OrganizationRow, UserRow
from vellum.errors import InvalidInput, NotFound

__all__ = ["remove_membership", "set_admin"]


def set_admin(catalog: Catalog, name: str, admin: bool) -> None:
    """Make a user a site administrator, or not; the last administrator stays one."""
    with catalog.transaction() as s:
        row = s.scalars(select(UserRow).where(func.lower(UserRow.name) == name.lower())).first()
        if row is None:
            raise NotFound(f"no user named {name!r} (see 'vellum user list')")
        if not admin and row.admin:
            others = s.scalar(
                select(func.count()).select_from(UserRow).where(UserRow.admin, UserRow.id != row.id)
            )
            if not others:
                raise InvalidInput(f"{row.name} is the only administrator; make another first")
        row.admin = admin  # sessions read the user again at each request: at once


def remove_membership(catalog: Catalog, name: str, organization_id: int) -> None:
    """End a user's role in an organization."""
    with catalog.transaction() as s:
        row = s.scalars(select(UserRow).where(func.lower(UserRow.name) == name.lower())).first()
        if row is None:
            raise NotFound(f"no user named {name!r} (see 'vellum user list')")
        if s.get(OrganizationRow, organization_id) is None:
            raise NotFound(f"no organization {organization_id}")
        s.execute(
            delete(MembershipRow).where(
                MembershipRow.user_id == row.id, MembershipRow.organization_id == organization_id
            )
        )
