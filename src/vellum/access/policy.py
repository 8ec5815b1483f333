"""The access rule: a public collection is open to all; a private one to its people only.

Every route (replay, CDX, search, WASAPI, exports) asks `can_view`; a collection a
principal may not see must look exactly like one that does not exist (404, never 403).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vellum.catalog import Catalog, Collection


@dataclass(frozen=True)
class Principal:
    """Who is asking: anonymous, an organization's user or token, or an administrator."""

    user: str | None = None
    admin: bool = False
    organizations: frozenset[int] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        return self.user is None and not self.admin and not self.organizations


ANONYMOUS = Principal()
# The operator at the terminal owns the data directory and sees everything.
OPERATOR = Principal(user="operator", admin=True)


def can_view(principal: Principal, collection: Collection) -> bool:
    """May this principal see this collection's pages, captures, hits and files?"""
    return (
        collection.public
        or principal.admin
        or collection.organization.id in principal.organizations
    )


def visible_collections(catalog: Catalog, principal: Principal) -> list[Collection]:
    """The collections this principal may see, by slug."""
    return [c for c in catalog.collections() if can_view(principal, c)]
