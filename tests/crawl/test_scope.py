"""Seed scopes (page, path, host, domain), include/exclude rules, hops, embeds."""

from __future__ import annotations

import pytest

from tests.crawl.conftest import CrawlFn, stored_urls
from tests.crawl.server import Reply, Site, html
from vellum.capture.scope import ScopeRules, Seed, surt_prefix
from vellum.errors import InvalidInput
from vellum.settings import Settings
from vellum.urls.surt import surt


def decide(rules: ScopeRules, url: str, path: str = "L") -> str | None:
    return rules.decide(url, surt(url), path)


@pytest.mark.parametrize(
    ("scope", "url", "inside"),
    [
        ("page", "http://example.com/a/b.html", True),
        ("page", "http://example.com/a/c.html", False),
        ("path", "http://example.com/a/c.html", True),
        ("path", "http://example.com/a/sub/d.html", True),
        ("path", "http://example.com/b/c.html", False),
        ("path", "http://example.com/", False),
        ("host", "http://example.com/z", True),
        ("host", "https://www.example.com/z", True),  # SURT: scheme and www ignored
        ("host", "http://sub.example.com/z", False),
        ("host", "http://example.org/z", False),
        ("domain", "http://sub.example.com/z", True),
        ("domain", "http://a.b.example.com/z", True),
        ("domain", "http://notexample.com/z", False),
        ("domain", "http://example.com.evil.org/z", False),
    ],
)
def test_seed_scopes(scope: str, url: str, inside: bool) -> None:
    rules = ScopeRules((Seed("http://example.com/a/b.html", scope),))
    assert (decide(rules, url) is None) == inside


def test_include_exclude_rules_and_hops() -> None:
    seed = Seed("http://example.com/", "host")
    rules = ScopeRules(
        (seed,),
        include=(surt_prefix("http://other.org/docs/"),),
        exclude=(surt_prefix("http://example.com/private/"),),
        include_re=(r"^https?://cdn\.example\.net/",),
        exclude_re=(r"\.pdf$",),
        max_hops=2,
    )
    assert decide(rules, "http://other.org/docs/x") is None
    assert decide(rules, "http://other.org/blog/x") == "out of scope"
    assert decide(rules, "http://cdn.example.net/page") is None
    assert decide(rules, "http://example.com/private/x") == "excluded by rule"
    assert decide(rules, "http://example.com/file.pdf") == "excluded by rule"
    assert decide(rules, "http://example.com/x", "LL") is None
    assert decide(rules, "http://example.com/x", "LLL") == "too many hops"
    # embeds come from any host, two in a row at most; excludes still apply
    assert decide(rules, "http://fonts.example.org/f.css", "LLE") is None
    assert decide(rules, "http://fonts.example.org/f.png", "LLEE") is None
    assert decide(rules, "http://fonts.example.org/g.png", "LLEEE") == "embed chain too long"
    assert decide(rules, "http://example.com/private/i.png", "E") == "excluded by rule"
    assert decide(rules, "http://example.com/y", "L" + "R" * 11) == "too many redirects"
    with pytest.raises(InvalidInput, match="regular expression"):
        ScopeRules((seed,), include_re=("(",))
    with pytest.raises(InvalidInput, match="unknown scope"):
        Seed("http://example.com/", "planet")


def _site() -> Site:
    return Site(
        {
            "/a/seed.html": html(
                '<a href="sibling.html">s</a><a href="/b/other.html">o</a>'
                '<img src="/img/pic.png"><a href="sub/deep.html">d</a>'
            ),
            "/a/sibling.html": html("<p>sibling</p>"),
            "/a/sub/deep.html": html("<p>deep</p>"),
            "/b/other.html": html("<p>other</p>"),
            "/img/pic.png": Reply(b"\x89PNG", "image/png"),
        }
    )


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("page", {"/a/seed.html", "/img/pic.png"}),
        ("path", {"/a/seed.html", "/img/pic.png", "/a/sibling.html", "/a/sub/deep.html"}),
        (
            "host",
            {
                "/a/seed.html",
                "/img/pic.png",
                "/a/sibling.html",
                "/a/sub/deep.html",
                "/b/other.html",
            },
        ),
    ],
)
def test_crawl_stays_in_scope(
    crawl: CrawlFn, settings: Settings, scope: str, expected: set[str]
) -> None:
    with _site() as site:
        report = crawl([Seed(site.url + "a/seed.html", scope)], sitemaps=False)
    fetched = {u.split(str(site.port), 1)[1] for u in stored_urls(settings)}
    assert fetched - {"/robots.txt"} == expected
    outside = {"page": 3, "path": 1, "host": 0}[scope]
    assert report.stats.out_of_scope == outside
    assert len(report.stats.samples.get("out_of_scope", [])) == outside
