"""Fixtures of the auth tests: a clock the test moves, a cheap argon2, a log-in app."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from vellum.auth.throttle import ThrottlePolicy
from vellum.auth.web import routes
from vellum.catalog import Catalog
from vellum.catalog.users import Users
from vellum.settings import Settings
from vellum.web.layout import CurrentRequest

PASSWORD = "correct horse battery"
# Real argon2id with small costs, so that the many log-ins of these tests stay fast.
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class MovingClock:
    """A clock that stands still until the test moves it (it starts at the real now)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class AuthSite:
    catalog: Catalog
    users: Users
    clock: MovingClock
    client: Callable[..., TestClient]  # a new browser: client(address=..., base_url=...)


@pytest.fixture
def auth_site(settings: Settings, catalog: Catalog) -> Iterator[AuthSite]:
    clock = MovingClock()
    app = Starlette(  # with the middleware that gives pages their navigation, as the app's
        routes=routes(settings, catalog, clock=clock, hasher=CHEAP, policy=ThrottlePolicy()),
        middleware=[Middleware(CurrentRequest)],
    )
    users = Users(catalog, CHEAP, clock)
    users.create("alice", PASSWORD)
    opened: list[TestClient] = []

    def client(address: str = "192.0.2.1", base_url: str = "http://testserver") -> TestClient:
        c = TestClient(app, base_url=base_url, follow_redirects=False, client=(address, 50000))
        opened.append(c.__enter__())
        return c

    yield AuthSite(catalog, users, clock, client)
    for c in opened:
        c.__exit__(None, None, None)


def csrf_of(html: str) -> str:
    """The CSRF token in the first form of a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def log_in(
    client: TestClient, name: str = "alice", password: str = PASSWORD, next_path: str = ""
) -> httpx2.Response:
    """Fill in and send the log-in form as a browser would."""
    page = client.get("/login")
    assert page.status_code == 200
    form = {"csrf_token": csrf_of(page.text), "name": name, "password": password}
    if next_path:
        form["next"] = next_path
    return client.post("/login", data=form)
