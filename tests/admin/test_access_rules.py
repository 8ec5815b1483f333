"""The one check: SURT-prefix matching, exact URLs, hosts, and the embargo's clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from vellum.access.exclusions import AccessRules, Rules, View
from vellum.access.policy import ANONYMOUS, OPERATOR, Principal
from vellum.catalog import Catalog
from vellum.catalog.collections import CollectionFields, Collections
from vellum.catalog.exclusions import Exclusions, surt_form
from vellum.clock import frozen_clock
from vellum.errors import InvalidInput
from vellum.index.cdxj import Capture
from vellum.settings import Settings
from vellum.urls.surt import surt


def test_surt_forms_of_what_a_curator_types() -> None:
    assert surt_form("url", "http://www.Example.com/a?b=1") == "com,example)/a?b=1"
    assert surt_form("url", "example.com/a") == "com,example)/a"
    assert surt_form("prefix", "https://example.com/private/") == "com,example)/private/"
    assert surt_form("prefix", "example.com/private") == "com,example)/private"
    assert surt_form("host", "Sub.Example.com") == "com,example,sub)"
    assert surt_form("host", "https://example.com/") == "com,example)"
    for kind, bad in [
        ("url", ""),
        ("url", "mailto:x@example.com"),
        ("url", "http://"),
        ("url", "http://a b/"),
        ("host", "example.com/path"),
        ("regex", "example.com"),
        ("url", "http://e.com/" + "x" * 2048),
    ]:
        with pytest.raises(InvalidInput):
            surt_form(kind, bad)


def test_prefix_matching_agrees_with_a_plain_scan() -> None:
    """The bisect over nested, overlapping prefixes finds exactly what a scan finds."""
    rng = random.Random(7)
    alphabet = "ab/)"
    for _ in range(200):
        prefixes = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(6)
        ]
        exact = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5)))}
        items = [("prefix", p) for p in prefixes] + [("url", e) for e in exact]
        rules = Rules.build(items, 0)
        for _ in range(50):
            key = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
            expected = key in exact or any(key.startswith(p) for p in prefixes)
            assert rules.excluded_key(key) is expected, (prefixes, exact, key)


def test_a_host_covers_its_urls_only() -> None:
    rules = Rules.build([("host", surt_form("host", "example.com"))], 0)
    assert rules.excluded_url("http://example.com/")
    assert rules.excluded_url("https://www.example.com/a/b")
    assert not rules.excluded_url("http://example.community/")
    assert not rules.excluded_url("http://sub.example.com/")
    prefix = Rules.build([("prefix", surt_form("prefix", "http://example.com/private/"))], 0)
    assert prefix.excluded_url("http://example.com/private/x")
    assert not prefix.excluded_url("http://example.com/privateer")


def _capture(url: str, timestamp: str) -> Capture:
    return Capture(
        urlkey=surt(url),
        timestamp=timestamp,
        url=url,
        mime="text/html",
        status="200",
        digest="sha1:X",
        length=1,
        offset=0,
        filename="f.warc.gz",
    )


def test_embargo_counts_days_on_the_injected_clock(settings: Settings, catalog: Catalog) -> None:
    catalog.create_organization("Org A", "A")
    Collections(catalog).create("c", CollectionFields("C", "A", embargo_days=10))
    collection = catalog.get_collection("c")
    now = datetime(2026, 3, 20, 12, 0, 0, tzinfo=UTC)
    rules = AccessRules(catalog, settings.catalog_path, clock=frozen_clock(now))
    public = rules.view(ANONYMOUS, collection)
    assert public.cutoff == "20260310120000"
    assert public.allows(_capture("http://e.com/", "20260310115959"))  # 10 days and 1 s old
    assert not public.allows(_capture("http://e.com/", "20260310120000"))
    assert not public.allows(_capture("http://e.com/", "20260320110000"))
    assert not public.allows_at("http://e.com/", "20260315")  # a short timestamp
    member = Principal(user="m", organizations=frozenset({collection.organization.id}))
    outsider = Principal(user="o", organizations=frozenset({collection.organization.id + 1}))
    for who, free in ((member, True), (OPERATOR, True), (outsider, False)):
        view = rules.view(who, collection)
        assert view.allows(_capture("http://e.com/", "20260320110000")) is free
    later = AccessRules(catalog, settings.catalog_path, clock=frozen_clock(now.replace(day=31)))
    assert later.view(ANONYMOUS, collection).allows(_capture("http://e.com/", "20260320110000"))


def test_rules_follow_the_catalog_without_a_restart(settings: Settings, catalog: Catalog) -> None:
    catalog.create_organization("Org A", "A")
    Collections(catalog).create("c", CollectionFields("C", "A"))
    collection = catalog.get_collection("c")
    rules = AccessRules(catalog, settings.catalog_path)
    assert rules.rules(collection) == Rules()
    # Another process (here: another catalog object on the same file) adds an exclusion.
    other = Catalog(settings.catalog_location)
    try:
        added = Exclusions(other).add("c", "prefix", "http://e.com/a/", "why")
        assert rules.rules(collection).excluded_url("http://e.com/a/b")
        Exclusions(other).remove(added.id)
        assert not rules.rules(collection).excluded_url("http://e.com/a/b")
    finally:
        other.close()


def test_an_unrestricted_view_passes_everything_through() -> None:
    view = View(Rules(), "")
    captures = [_capture("http://e.com/", "20200101000000")]
    assert view.unrestricted and list(view.filter(captures)) == captures
