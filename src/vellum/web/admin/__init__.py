"""The admin pages under /admin/: organizations, users, collections and exclusions.

Site administrators manage organizations and users; a curator of an organization (or
an administrator) manages that organization's collections. Every form carries the
session's CSRF token; a collection someone may not manage answers 404 like one that
does not exist.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from vellum.catalog import Catalog
from vellum.settings import Settings
from vellum.web.admin.collections import CollectionPages
from vellum.web.admin.people import PeoplePages
from vellum.web.admin.render import AdminBase

__all__ = ["routes"]


def routes(settings: Settings, catalog: Catalog) -> list[BaseRoute]:
    """The admin routes, to be placed before the app's `/{slug}` routes."""
    base = AdminBase(settings, catalog)
    people = PeoplePages(base)
    coll = CollectionPages(base)
    get, both, post = ["GET"], ["GET", "POST"], ["POST"]
    return [
        Route("/admin", coll.to_index, methods=get),
        Route("/admin/", coll.index, methods=get),
        Route("/admin/organizations", people.organizations, methods=get),
        Route("/admin/organizations/new", people.new_organization, methods=both),
        Route("/admin/organizations/{id:int}", people.edit_organization, methods=both),
        Route("/admin/organizations/{id:int}/delete", people.delete_organization, methods=post),
        Route("/admin/users", people.users, methods=get),
        Route("/admin/users/new", people.new_user, methods=both),
        Route("/admin/users/{name}", people.user, methods=get),
        Route("/admin/users/{name}/admin", people.set_admin, methods=post),
        Route("/admin/users/{name}/memberships", people.add_membership, methods=post),
        Route("/admin/users/{name}/memberships/remove", people.remove_membership, methods=post),
        Route("/admin/collections/new", coll.new, methods=both),
        Route("/admin/collections/{slug}", coll.edit, methods=both),
        Route("/admin/collections/{slug}/exclusions", coll.add_exclusion, methods=post),
        Route(
            "/admin/collections/{slug}/exclusions/{id:int}/remove",
            coll.remove_exclusion,
            methods=post,
        ),
        Route("/admin/collections/{slug}/delete", coll.delete, methods=both),
    ]
