"""`/api/search` and `/search` through the real app, with the access rule."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from starlette.testclient import TestClient

from tests.search.conftest import Archive, Page, html
from vellum.catalog import Catalog
from vellum.replay.app import create_app
from vellum.settings import Settings


@pytest.fixture
def client(settings: Settings, catalog: Catalog, archive: Archive) -> Iterator[TestClient]:
    archive(
        "public-site",
        [
            Page("http://pub.org/a", "20150101000000", html("Open heritage", "shared words", "en")),
            Page(
                "http://pub.org/b", "20160101000000", html("Patrimoine ouvert", "shared mots", "fr")
            ),
        ],
    )
    catalog.create_organization("Secret Keepers", "SK")
    catalog.create_collection("hidden", "SK", "Hidden", public=False)
    archive(
        "hidden",
        [
            Page(
                "http://secret.org/x",
                "20170101000000",
                html("Classified heritage", "shared secret"),
            )
        ],
    )
    with TestClient(create_app(settings, catalog)) as c:
        yield c


def test_api_json(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "heritage", "per_page": 5})
    assert r.status_code == 200
    data = r.json()
    assert data["total"] == 1 and data["page"] == 1 and data["pages"] == 1
    hit = data["hits"][0]
    assert hit["url"] == "http://pub.org/a"
    assert hit["replay"] == "/public-site/20150101000000/http://pub.org/a"
    assert hit["versions"] == "/public-site/*/http://pub.org/a"
    assert "<b>heritage</b>" in hit["snippet"] or hit["title"] == "Open heritage"
    assert {f["value"] for f in data["facets"]["collection"]} == {"public-site"}


def test_private_collection_is_invisible_to_anonymous(client: TestClient) -> None:
    data = client.get("/api/search", params={"q": "shared"}).json()
    assert data["total"] == 2
    assert all(h["collection"] == "public-site" for h in data["hits"])
    facet_values = {f["value"] for pairs in data["facets"].values() for f in pairs}
    assert "hidden" not in facet_values and "secret.org" not in facet_values
    assert client.get("/api/search", params={"q": "classified"}).json()["total"] == 0
    asked = client.get("/api/search", params={"q": "shared", "collection": "hidden"}).json()
    assert asked["total"] == 0 and asked["facets"] == {}
    page = client.get("/search", params={"q": "secret"})
    assert "secret.org" not in page.text and "hidden" not in page.text


def test_private_collection_is_visible_to_its_organization(
    client: TestClient, catalog: Catalog
) -> None:
    token = catalog.create_api_token("SK")
    auth = {"Authorization": f"Bearer {token}"}
    data = client.get("/api/search", params={"q": "shared"}, headers=auth).json()
    assert data["total"] == 3
    assert {f["value"] for f in data["facets"]["collection"]} == {"public-site", "hidden"}
    other = catalog.create_api_token("EPF")  # another organization sees no more than the public
    data = client.get(
        "/api/search", params={"q": "shared"}, headers={"Authorization": f"Bearer {other}"}
    ).json()
    assert data["total"] == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": '"unbalanced'}, "unbalanced quote"),
        ({"q": ""}, "empty query"),
        ({"q": "a", "page": "x"}, "page must be a whole number"),
        ({"q": "a", "per_page": "1000"}, "per_page must be between 1 and 100"),
        ({"q": "a", "sort": "random"}, "sort must be one of"),
    ],
)
def test_api_bad_input_is_a_400_with_the_reason(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    r = client.get("/api/search", params=params)
    assert r.status_code == 400
    assert message in r.json()["error"]


def test_search_page_with_clickable_facets(client: TestClient) -> None:
    assert "<form" in client.get("/search").text
    page = client.get("/search", params={"q": "shared"})
    assert page.status_code == 200
    assert "2 results" in page.text
    assert 'href="/public-site/20150101000000/http://pub.org/a"' in page.text
    assert 'href="/public-site/*/http://pub.org/a"' in page.text
    links = dict(re.findall(r'<a href="(/search\?[^"]+)">(fr|en)</a>', page.text))
    by_lang = {lang: unescape(href) for href, lang in links.items()}
    narrowed = client.get(by_lang["fr"])
    assert "1 result " in narrowed.text and "Patrimoine ouvert" in narrowed.text
    assert "Open heritage" not in narrowed.text


def test_search_page_bad_query(client: TestClient) -> None:
    page = client.get("/search", params={"q": "(oops"})
    assert page.status_code == 400
    assert "unbalanced parenthesis" in page.text


def test_new_imports_show_up_without_a_restart(client: TestClient, archive: Archive) -> None:
    assert client.get("/api/search", params={"q": "latecomer"}).json()["total"] == 0
    archive("public-site", [Page("http://pub.org/late", "20180101000000", html("Latecomer", "x"))])
    assert client.get("/api/search", params={"q": "latecomer"}).json()["total"] == 1


def test_an_index_from_another_version_is_a_503_not_a_crash(
    client: TestClient, settings: Settings, catalog: Catalog
) -> None:
    from vellum.search.feed import search_dir

    (search_dir(settings) / "index" / "VELLUM_SCHEMA").write_text("0\n")
    with TestClient(create_app(settings, catalog)) as fresh:
        r = fresh.get("/api/search", params={"q": "shared"})
        assert r.status_code == 503 and "vellum search reindex" in r.json()["error"]
        page = fresh.get("/search", params={"q": "shared"})
        assert page.status_code == 503 and "vellum search reindex" in page.text
