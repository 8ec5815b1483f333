"""Fixtures of the admin tests: a site with two organizations, people in every role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from vellum.auth.sessions import SESSION_COOKIE, Sessions
from vellum.catalog import Catalog
from vellum.catalog.users import Users
from vellum.replay.app import create_app
from vellum.settings import Settings

PASSWORD = "correct horse battery"
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# Who is asking: anonymous (None), a viewer and a curator of A, a curator of B, an admin.
ROLES = (None, "viewer-a", "curator-a", "curator-b", "root")


@dataclass
class AdminSite:
    settings: Settings
    catalog: Catalog
    client: Callable[[str | None], TestClient]  # a browser logged in as this user (or not)


def csrf_of(html: str) -> str:
    """The CSRF token of the last form of a page (the first may be the log-out form)."""
    found = re.findall(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found[-1]


@pytest.fixture
def site(settings: Settings, catalog: Catalog) -> Iterator[AdminSite]:
    catalog.create_organization("Org A", "A")
    catalog.create_organization("Org B", "B")
    catalog.create_collection("a-open", "A", "A open", public=True)
    catalog.create_collection("a-private", "A", "A private", public=False)
    catalog.create_collection("b-private", "B", "B private", public=False)
    users = Users(catalog, CHEAP)
    users.create("viewer-a", PASSWORD)
    users.add_membership("viewer-a", "A", "viewer")
    users.create("curator-a", PASSWORD)
    users.add_membership("curator-a", "A", "curator")
    users.create("curator-b", PASSWORD)
    users.add_membership("curator-b", "B", "curator")
    users.create("root", PASSWORD, admin=True)
    app = create_app(settings, catalog)
    sessions = Sessions(catalog)
    opened: list[TestClient] = []

    def client(name: str | None) -> TestClient:
        c = TestClient(app, follow_redirects=False).__enter__()
        opened.append(c)
        if name is not None:
            session_id, _ = sessions.create(users.get(name))
            c.cookies.set(SESSION_COOKIE, session_id)
        return c

    yield AdminSite(settings, catalog, client)
    for c in opened:
        c.__exit__(None, None, None)


def post_form(client: TestClient, page: str, action: str, data: dict[str, str]) -> object:
    """Open `page`, then send `data` to `action` with the page's CSRF token."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data})
