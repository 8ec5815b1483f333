"""The CSRF guard other routes use for their forms (`vellum.auth.guard.posted_form`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.auth.conftest import CHEAP, PASSWORD, csrf_of, log_in
from vellum.auth.guard import FormError, posted_form
from vellum.auth.web import routes
from vellum.catalog import Catalog
from vellum.catalog.users import Users
from vellum.settings import Settings
from vellum.web.layout import CurrentRequest


@pytest.fixture
def client(settings: Settings, catalog: Catalog) -> Iterator[TestClient]:
    changed: list[str] = []

    async def rename(request: Request) -> Response:
        try:
            session, fields = await posted_form(request, catalog)
        except FormError as exc:
            return PlainTextResponse(exc.message, status_code=exc.status)
        if session is None:
            return PlainTextResponse("log in first", status_code=303)
        changed.append(fields.get("title", ""))
        return PlainTextResponse(f"renamed by {session.user.name}: {changed}")

    Users(catalog, CHEAP).create("alice", PASSWORD)
    app = Starlette(
        routes=[
            *routes(settings, catalog, hasher=CHEAP),
            Route("/rename", rename, methods=["POST"]),
        ],
        middleware=[Middleware(CurrentRequest)],  # the pages' navigation, as in the app
    )
    with TestClient(app, follow_redirects=False) as c:
        yield c


def test_a_form_of_another_route_is_checked(client: TestClient) -> None:
    assert log_in(client).status_code == 303
    token = csrf_of(client.get("/account").text)
    assert client.post("/rename", data={"title": "x"}).status_code == 403
    assert client.post("/rename", data={"title": "x", "csrf_token": "nope"}).status_code == 403
    ok = client.post("/rename", data={"title": "<b>new</b>", "csrf_token": token})
    assert ok.status_code == 200 and ok.text == "renamed by alice: ['<b>new</b>']"
