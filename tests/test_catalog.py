from pathlib import Path

import pytest

from vellum.catalog import Catalog
from vellum.errors import InvalidInput, NotFound, VellumError


def test_organizations_and_collections(catalog: Catalog) -> None:
    org = catalog.create_organization("Example Partner Foundation", "EPF")
    assert catalog.find_organization("epf") == org
    assert catalog.find_organization("example partner foundation") == org
    coll = catalog.create_collection("epf-web", "EPF", "EPF web site", "All of it")
    assert coll.organization == org
    assert catalog.get_collection("epf-web") == coll
    assert [c.slug for c in catalog.collections()] == ["epf-web"]
    assert [o.acronym for o in catalog.organizations()] == ["EPF"]


def test_duplicates_and_unknowns(catalog: Catalog) -> None:
    catalog.create_organization("A", "A")
    with pytest.raises(VellumError, match="already exists"):
        catalog.create_organization("A", "B")
    with pytest.raises(NotFound, match="no organization"):
        catalog.create_collection("x", "nobody", "X")
    catalog.create_collection("x", "A", "X")
    with pytest.raises(VellumError, match="already exists"):
        catalog.create_collection("x", "A", "X again")
    with pytest.raises(NotFound, match="no collection"):
        catalog.get_collection("y")


@pytest.mark.parametrize("slug", ["", "UPPER", "has space", "-lead", "static", "a/b", "x" * 70])
def test_bad_slugs(catalog: Catalog, slug: str) -> None:
    catalog.create_organization("A", "A")
    with pytest.raises(InvalidInput):
        catalog.create_collection(slug, "A", "T")


def test_crawl_rows(catalog: Catalog) -> None:
    catalog.create_organization("A", "A")
    coll = catalog.create_collection("c", "A", "C")
    crawl = catalog.start_crawl(coll, ["http://x.org/"], 2)
    assert crawl.status == "running"
    done = catalog.finish_crawl(crawl.id, "finished", 3, 1, 1000)
    assert (done.status, done.fetched, done.failed, done.bytes) == ("finished", 3, 1, 1000)
    assert done.finished is not None and done.started.tzinfo is not None
    assert catalog.crawls("c") == [done]


def test_unwritable_location(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(VellumError, match="cannot create data directory"):
        Catalog(blocker / "data" / "vellum.db")
