"""A logged-in user sees what their organizations may see, through the one collection gate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.auth.conftest import CHEAP, PASSWORD, csrf_of, log_in
from tests.conftest import shared_dir
from vellum.catalog import Catalog
from vellum.catalog.users import Users
from vellum.errors import InvalidInput
from vellum.index.importer import Importer
from vellum.replay.app import create_app
from vellum.settings import Settings

IANA = "warcio/example-iana.org-chunked.warc"
CAPTURE = "/{slug}/20170306165409id_/http://www.iana.org/"


@pytest.fixture
def app_client(settings: Settings, catalog: Catalog) -> Iterator[TestClient]:
    catalog.create_organization("Org A", "A")
    catalog.create_organization("Org B", "B")
    catalog.create_collection("a-private", "A", "A private", public=False)
    catalog.create_collection("b-private", "B", "B private", public=False)
    catalog.create_collection("open", "B", "Open", public=True)
    fixture = shared_dir() / "fixtures" / IANA
    for slug in ("a-private", "b-private", "open"):
        assert not Importer(settings, catalog, workers=1).run(slug, [fixture]).failed
    # Cheap hashes to set up; the app's first log-in of each upgrades it to the defaults.
    users = Users(catalog, CHEAP)
    users.create("viewer-a", PASSWORD)
    users.add_membership("viewer-a", "A", "viewer")
    users.create("curator-a", PASSWORD)
    users.add_membership("curator-a", "A", "curator")
    users.create("root", PASSWORD, admin=True)
    users.create("nobody", PASSWORD)
    with TestClient(create_app(settings, catalog), follow_redirects=False) as client:
        yield client


def sees(client: TestClient, slug: str) -> bool:
    page = client.get(f"/{slug}/")
    capture = client.get(CAPTURE.format(slug=slug))
    assert page.status_code == capture.status_code
    assert page.status_code in (200, 404)
    return page.status_code == 200


def test_each_role_sees_its_collections(app_client: TestClient) -> None:
    expected = {
        None: {"open"},
        "nobody": {"open"},
        "viewer-a": {"open", "a-private"},
        "curator-a": {"open", "a-private"},
        "root": {"open", "a-private", "b-private"},
    }
    for name, visible in expected.items():
        app_client.cookies.clear()
        if name is not None:
            assert log_in(app_client, name=name).status_code == 303
        # The page's navigation names who is logged in, so compare as the same visitor.
        missing = app_client.get("/no-such-collection/").text
        for slug in ("open", "a-private", "b-private"):
            assert sees(app_client, slug) is (slug in visible), (name, slug)
            if slug not in visible:
                # Exactly what a collection that does not exist answers.
                assert app_client.get(f"/{slug}/").text == missing
        home = app_client.get("/").text
        for slug in ("a-private", "b-private"):
            assert (f"/{slug}/" in home) is (slug in visible), (name, slug)


def test_logging_out_hides_the_private_collection_again(app_client: TestClient) -> None:
    assert log_in(app_client, name="viewer-a").status_code == 303
    assert sees(app_client, "a-private")
    token = csrf_of(app_client.get("/account").text)
    assert app_client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert not sees(app_client, "a-private")


def test_account_is_a_reserved_slug(catalog: Catalog) -> None:
    catalog.create_organization("Org", "O")
    with pytest.raises(InvalidInput):
        catalog.create_collection("account", "O", "T")
