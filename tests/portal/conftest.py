"""A small archive for the portal tests: three collections, users of every role.

Every text the catalog holds (organization, title, description, each Dublin Core
element, seeds) carries HTML and script, so any page that forgets to escape shows it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from tests.replay_ui.archive import Page, make_collection
from vellum.catalog import Catalog
from vellum.catalog.models import CollectionRow, OrganizationRow, SeedRow
from vellum.catalog.users import Users
from vellum.settings import Settings
from vellum.web.details import DC_ELEMENTS

PASSWORD = "correct horse battery"
EVIL = '<script>alert("x")</script><b onmouseover=alert(1)>'
SITE = "http://www.example.org/"


def when(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


# The public collection: one page captured on three days of two years, a second page,
# an image and a 404. The calendar, counts and dates are checked against this list.
PUBLIC_PAGES = [
    Page(f"{SITE}", when("20151229231410"), b"<html><title>Home 1</title></html>"),
    Page(f"{SITE}", when("20151229235959"), b"<html><title>Home 2</title></html>"),
    Page(f"{SITE}", when("20160301080000"), b"<html><title>Home 3</title></html>"),
    Page(f"{SITE}", when("20160315120000"), b"<html><title>Home 4</title></html>"),
    Page(f"{SITE}about.html", when("20160301080500"), b"<html><title>About</title></html>"),
    Page(f"{SITE}logo.png", when("20151229231411"), b"\x89PNG\r\n", "image/png"),
    Page(f"{SITE}gone.html", when("20170101000000"), b"no", status="404 Not Found"),
]
PRIVATE_PAGES = [
    Page("http://private.example.org/", when("20200101120000"), b"<html>Secret A</html>"),
]
PRIVATE_B_PAGES = [
    Page("http://b.example.org/", when("20210101120000"), b"<html>Secret B</html>"),
]


@dataclass
class PortalArchive:
    settings: Settings
    catalog: Catalog


def evil_dublin_core(tag: str) -> str:
    """Dublin Core JSON with HTML and script in every element (two values for subject)."""
    data: dict[str, list[str]] = {e: [f"{e}-{tag} {EVIL}"] for e in DC_ELEMENTS}
    data["subject"].append(f"second subject {EVIL}")
    return json.dumps(data)


def build_archive(settings: Settings) -> Catalog:
    """The archive of these tests (collections `pub`, `priv-a`, `priv-b`; users)."""
    catalog = Catalog(settings.catalog_path)
    make_collection(settings, catalog, "pub", PUBLIC_PAGES, f"Org A {EVIL}", "A", f"Pub {EVIL}")
    make_collection(
        settings, catalog, "priv-a", PRIVATE_PAGES, "Org A", "A", "Private A", public=False
    )
    make_collection(
        settings, catalog, "priv-b", PRIVATE_B_PAGES, "Org B", "B", "Private B", public=False
    )
    with catalog.transaction() as s:
        for row in s.scalars(select(CollectionRow)):
            row.description = f"About {row.slug} {EVIL}"
            row.dublin_core = evil_dublin_core(row.slug)
        org = s.scalars(select(OrganizationRow).where(OrganizationRow.acronym == "A")).one()
        org.logo_url = "http://127.0.0.1:9/logo.png"
        org.contact = f"mailto:a@example.org {EVIL}"
        pub = s.scalars(select(CollectionRow).where(CollectionRow.slug == "pub")).one()
        for url, active in (
            (SITE, True),
            (f"{SITE}about.html?x=<i>", True),
            (f"{SITE}paused/", False),
        ):
            s.add(
                SeedRow(
                    collection_id=pub.id,
                    url=url,
                    scope="host",
                    frequency="weekly",
                    active=active,
                    notes=f"private notes {EVIL}",
                    created=datetime.now(UTC),
                )
            )
    users = Users(catalog, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    users.create("ada", PASSWORD, admin=True)
    users.create("vic", PASSWORD)
    users.add_membership("vic", "A", "viewer")
    users.create("cur", PASSWORD)
    users.add_membership("cur", "B", "curator")
    return catalog


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalArchive]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("portal") / "data")
    catalog = build_archive(settings)
    yield PortalArchive(settings, catalog)
    catalog.close()
