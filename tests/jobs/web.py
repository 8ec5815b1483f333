"""The whole app for the seed and job page tests, and people with their roles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from starlette.testclient import TestClient

from vellum.auth.sessions import SESSION_COOKIE, Sessions
from vellum.catalog import Catalog
from vellum.catalog.users import Users
from vellum.replay.app import create_app
from vellum.settings import Settings

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PEOPLE = {
    # name: (admin, organization, role)
    "root": (True, None, None),
    "carla": (False, "PL", "curator"),
    "victor": (False, "PL", "viewer"),
    "otto": (False, "OO", "curator"),
}


def make_people(catalog: Catalog) -> None:
    """The organizations PL (owning the test collection) and OO, and one user per role."""
    catalog.create_organization("Other Org", "OO")
    users = Users(catalog, CHEAP)
    for name, (admin, org, role) in PEOPLE.items():
        users.create(name, "password-" + name, admin=admin)
        if org and role:
            users.add_membership(name, org, role)


@contextmanager
def browser(settings: Settings, catalog: Catalog, who: str | None) -> Iterator[TestClient]:
    """A client of the app, logged in as `who` (None: anonymous)."""
    app = create_app(settings, catalog)
    with TestClient(app, follow_redirects=False) as client:
        if who is not None:
            session_id, _ = Sessions(catalog).create(Users(catalog, CHEAP).get(who))
            client.cookies.set(SESSION_COOKIE, session_id)
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)
