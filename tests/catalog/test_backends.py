"""What must hold the same on SQLite and PostgreSQL: times, sizes, lengths, the generation."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from vellum.catalog import Catalog, Collection
from vellum.catalog.crawls import save_report
from vellum.catalog.users import Users
from vellum.clock import frozen_clock
from vellum.errors import InvalidInput, NotFound
from vellum.replay.catalog_view import RECHECK, catalog_view
from vellum.settings import Settings


def test_times_come_back_in_utc_and_sizes_past_32_bits(settings: Settings) -> None:
    paris = datetime(2024, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    with Catalog(settings.catalog_location, clock=frozen_clock(paris)) as catalog:
        catalog.create_organization("Org", "ORG")
        coll = catalog.create_collection("c", "ORG", "C")
        crawl = catalog.start_crawl(coll, ["https://example.org/"], 1)
        catalog.finish_crawl(crawl.id, "finished", 3, 0, 6_000_000_000)
        catalog.add_warc_file("c", "big.warc.gz", 2**40, "A" * 40, "B" * 32)
        (read,) = catalog.crawls("c")
        assert read.started == paris and read.started.utcoffset() == timedelta(0)
        assert read.bytes == 6_000_000_000
        (warc,) = catalog.warc_files("c")
        assert (warc.size, warc.sha1, warc.added) == (2**40, "a" * 40, paris)
        assert warc.added.tzinfo is not None


def test_lookups_ignore_case_alike(catalog: Catalog) -> None:
    catalog.create_organization("Bibliothèque Nationale", "BnF")
    assert catalog.find_organization("bnf").acronym == "BnF"
    Users(catalog).create("Alice.B", "a password here")
    assert Users(catalog).get("ALICE.b").name == "Alice.B"
    with pytest.raises(Exception, match="already exists"):
        Users(catalog).create("alice.b", "a password here")


def test_too_long_values_are_invalid_input_or_kept_whole(settings: Settings) -> None:
    """PostgreSQL enforces column lengths: a clear InvalidInput, and nothing half-stored."""
    with Catalog(settings.catalog_location) as catalog:
        catalog.create_organization("Org", "ORG")
        long_name = "x" * 301
        if settings.database_url is None:
            assert catalog.create_organization(long_name, "LONG").name == long_name
        else:
            with pytest.raises(InvalidInput, match="does not fit the catalog: value too long"):
                catalog.create_organization(long_name, "LONG")
            assert [o.acronym for o in catalog.organizations()] == ["ORG"]


def test_generation_counts_writes_only(catalog: Catalog) -> None:
    start = catalog.generation()
    catalog.create_organization("Org", "ORG")
    coll = catalog.create_collection("c", "ORG", "C")
    after_writes = catalog.generation()
    assert after_writes == start + 2
    catalog.collections()
    catalog.get_collection("c")
    catalog.find_organization("org")
    assert catalog.generation() == after_writes  # reads change nothing
    save_report(catalog, catalog.start_crawl(coll, ["https://a/"], 0).id, {"pages": 1})
    assert catalog.generation() == after_writes + 2
    users = Users(catalog, clock=frozen_clock(datetime(2024, 1, 1, tzinfo=UTC)))
    users.create("bob", "a password here")
    before = catalog.generation()
    users.set_password("bob", "another password")  # an update and a bulk delete
    assert catalog.generation() == before + 1
    with pytest.raises(Exception, match="already exists"):
        catalog.create_collection("c", "ORG", "Again")
    assert catalog.generation() == before + 1  # a rolled-back write is not counted


def test_view_sees_a_change_made_through_another_catalog(settings: Settings) -> None:
    """As the replay app sees `vellum collection set --private` run by another process."""
    with (
        Catalog(settings.catalog_location) as served,
        Catalog(settings.catalog_location) as other,
    ):
        other.create_organization("Org", "ORG")
        other.create_collection("c", "ORG", "C")
        view = catalog_view(served, settings.catalog_path)
        assert view.get_collection("c").public
        assert view.get_collection("c").public  # (from memory, on PostgreSQL)
        other.set_collection_public("c", False)
        time.sleep(RECHECK * 2)
        assert not view.get_collection("c").public
        other.set_collection_public("c", True)
        time.sleep(RECHECK * 2)
        assert view.get_collection("c").public


def test_view_remembers_lookups_until_the_generation_moves(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    if settings.database_url is None:
        pytest.skip("SQLite: the view watches the file instead (tests/test_replay.py)")
    with Catalog(settings.catalog_location) as catalog:
        catalog.create_organization("Org", "ORG")
        catalog.create_collection("c", "ORG", "C")
        asked: list[str] = []
        real = catalog.get_collection

        def counting(slug: str) -> Collection:
            asked.append(slug)
            return real(slug)

        monkeypatch.setattr(catalog, "get_collection", counting)
        view = catalog_view(catalog)
        for _ in range(5):
            assert view.get_collection("c").public
            with pytest.raises(NotFound):
                view.get_collection("nope")
        assert asked == ["c", "nope"]
        catalog.set_collection_public("c", False)
        time.sleep(RECHECK * 2)
        assert not view.get_collection("c").public
        assert asked == ["c", "nope", "c"]


def test_view_sees_its_own_catalog_writes_at_once(settings: Settings) -> None:
    with Catalog(settings.catalog_location) as catalog:
        catalog.create_organization("Org", "ORG")
        catalog.create_collection("c", "ORG", "C")
        view = catalog_view(catalog, settings.catalog_path)
        for _ in range(20):  # no sleep: well within one RECHECK
            assert view.get_collection("c").public
            catalog.set_collection_public("c", False)
            assert not view.get_collection("c").public
            catalog.set_collection_public("c", True)
