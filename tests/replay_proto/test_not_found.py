"""Item 6: a URL never captured gets a 404 page that says so, with nearby URLs and search."""

from __future__ import annotations

from tests.replay_proto.conftest import SITE, SLUG, T1, Proto
from vellum.replay.notfound import parent_prefixes


def test_not_found_page_offers_nearby_urls_and_search(proto: Proto) -> None:
    r = proto.client.get(f"/{SLUG}/{T1}mp_/{SITE}/docs/missing.html")
    assert r.status_code == 404
    assert f"{SITE}/docs/missing.html has not been archived" in r.text
    for name in ("a", "b", "c"):
        assert f'href="/{SLUG}/{SITE}/docs/{name}.html"' in r.text
    assert "page.html" not in r.text  # a nearer prefix had captures
    assert 'href="/search?q=http%3A%2F%2Fsite.test%2Fdocs%2Fmissing.html"' in r.text


def test_not_found_falls_back_to_the_host(proto: Proto) -> None:
    r = proto.client.get(f"/{SLUG}/{T1}mp_/{SITE}/nowhere/deep/x.html")
    assert r.status_code == 404
    assert f"/{SLUG}/{SITE}/app.js" in r.text  # the first URLs of the host, in key order
    nothing = proto.client.get(f"/{SLUG}/{T1}mp_/http://other.test/")
    assert nothing.status_code == 404 and "Captured near" not in nothing.text


def test_not_found_escapes_the_url(proto: Proto) -> None:
    r = proto.client.get(f'/{SLUG}/{T1}mp_/{SITE}/"><script>alert(1)</script>')
    assert r.status_code == 404
    assert "<script>alert(1)" not in r.text


def test_parent_prefixes() -> None:
    assert parent_prefixes("http://h.org/a/b/c.html?x=1") == [
        "http://h.org/a/b/",
        "http://h.org/a/",
        "http://h.org/",
    ]
