"""Access: a private collection is invisible (404) to anyone not allowed, on every route."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import shared_dir
from vellum.access import ANONYMOUS, OPERATOR, Principal, can_view, visible_collections
from vellum.catalog import Catalog
from vellum.catalog.models import ApiTokenRow
from vellum.errors import InvalidInput
from vellum.index.importer import Importer
from vellum.replay.app import create_app
from vellum.settings import Settings

IANA = "warcio/example-iana.org-chunked.warc"
TS = "20170306165409"


@dataclass
class Site:
    client: TestClient
    catalog: Catalog
    token: str  # an API token of the organization owning the private collection
    other_token: str  # a token of another organization


@pytest.fixture
def site(settings: Settings, catalog: Catalog) -> Iterator[Site]:
    catalog.create_organization("Owner Org", "OWN")
    catalog.create_organization("Other Org", "OTH")
    catalog.create_collection("open", "OWN", "Open", public=True)
    catalog.create_collection("closed", "OWN", "Closed", public=False)
    fixture = shared_dir() / "fixtures" / IANA
    for slug in ("open", "closed"):
        report = Importer(settings, catalog, workers=1).run(slug, [fixture])
        assert not report.failed
    token = catalog.create_api_token("OWN", "tests")
    other = catalog.create_api_token("OTH")
    with TestClient(create_app(settings, catalog), follow_redirects=False) as client:
        yield Site(client, catalog, token, other)


ROUTES = [
    "/{slug}/",
    "/{slug}",
    f"/{{slug}}/{TS}/http://www.iana.org/",
    f"/{{slug}}/{TS}id_/http://www.iana.org/",
    "/{slug}/http://www.iana.org/",
    "/{slug}/*/http://www.iana.org/",
    "/{slug}/cdx?url=http://www.iana.org/",
]


@pytest.mark.parametrize("route", ROUTES)
def test_private_collection_is_404_for_anonymous_and_strangers(site: Site, route: str) -> None:
    path = route.format(slug="closed")
    missing = site.client.get(route.format(slug="no-such-collection"))
    for headers in (
        {},
        {"Authorization": f"Bearer {site.other_token}"},
        {"Authorization": "Bearer x"},
    ):
        response = site.client.get(path, headers=headers)
        assert response.status_code == 404, (path, headers)
        # Indistinguishable from a collection that does not exist.
        assert response.text == missing.text
        assert "closed" not in response.text.lower()


@pytest.mark.parametrize("route", ROUTES)
def test_private_collection_is_served_to_its_organization(site: Site, route: str) -> None:
    auth = {"Authorization": f"Bearer {site.token}"}
    private = site.client.get(route.format(slug="closed"), headers=auth)
    public = site.client.get(route.format(slug="open"))
    assert private.status_code == public.status_code
    assert private.status_code in (200, 301, 302)


def test_home_lists_only_what_the_visitor_may_see(site: Site) -> None:
    anonymous = site.client.get("/").text
    assert "/open/" in anonymous and "/closed/" not in anonymous
    member = site.client.get("/", headers={"Authorization": f"Bearer {site.token}"}).text
    assert "/open/" in member and "/closed/" in member


def test_making_a_collection_private_takes_effect_at_once(site: Site) -> None:
    path = f"/open/{TS}id_/http://www.iana.org/"
    assert site.client.get(path).status_code == 200
    site.catalog.set_collection_public("open", False)
    assert site.client.get(path).status_code == 404
    site.catalog.set_collection_public("open", True)
    assert site.client.get(path).status_code == 200


def test_policy_matrix(catalog: Catalog) -> None:
    own = catalog.create_organization("Owner Org", "OWN")
    other = catalog.create_organization("Other Org", "OTH")
    public = catalog.create_collection("pub", "OWN", "Public", public=True)
    private = catalog.create_collection("priv", "OWN", "Private", public=False)
    member = Principal(user="m", organizations=frozenset({own.id}))
    stranger = Principal(user="s", organizations=frozenset({other.id}))
    admin = Principal(user="a", admin=True)
    expected = {
        ANONYMOUS: (True, False),
        stranger: (True, False),
        member: (True, True),
        admin: (True, True),
        OPERATOR: (True, True),
    }
    for principal, (sees_public, sees_private) in expected.items():
        assert can_view(principal, public) is sees_public
        assert can_view(principal, private) is sees_private
        slugs = [c.slug for c in visible_collections(catalog, principal)]
        assert ("priv" in slugs) is sees_private and "pub" in slugs


def test_tokens_are_stored_hashed_and_unknown_tokens_match_nothing(
    catalog: Catalog, settings: Settings
) -> None:
    catalog.create_organization("Owner Org", "OWN")
    token = catalog.create_api_token("OWN")
    assert token.startswith("vlm_") and len(token) > 40
    if settings.database_url is None:
        assert token.encode() not in Path(settings.catalog_path).read_bytes()
    with catalog.transaction() as s:  # on any backend: no column holds the token
        rows = s.execute(select(ApiTokenRow.__table__)).all()
    assert rows and all(token not in str(value) for row in rows for value in row)
    found = catalog.organization_for_token(token)
    assert found is not None and found.acronym == "OWN"
    assert catalog.organization_for_token(token + "x") is None
    assert catalog.organization_for_token("") is None


@pytest.mark.parametrize("slug", ["wasapi", "search", "api", "static", "timemap", "admin", "login"])
def test_reserved_slugs_are_refused(catalog: Catalog, slug: str) -> None:
    catalog.create_organization("Owner Org", "OWN")
    with pytest.raises(InvalidInput):
        catalog.create_collection(slug, "OWN", "T")
