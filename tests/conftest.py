"""Shared fixtures: data directories, a frozen clock, the demo site, fixture paths."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vellum.catalog import Catalog
from vellum.clock import Clock, frozen_clock
from vellum.demo.site_server import DemoSite
from vellum.settings import Settings

# The `browser` fixture (Debian's Chromium through Playwright) for every browser test.
pytest_plugins = ["tests.browser"]

FROZEN = datetime(2015, 12, 29, 23, 14, 10, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent


# ../shared next to the repository holds the fixtures and the seed page.
SHARED = next(
    (p for p in (REPO.parent / "shared", Path("/work/shared")) if p.is_dir()),
    REPO.parent / "shared",
)


def shared_dir() -> Path:
    """../shared, or a skip if this checkout has none next to it."""
    if not SHARED.is_dir():
        pytest.skip("../shared (fixtures and seed) is not present next to the repository")
    return SHARED


@pytest.fixture
def fixtures_dir() -> Path:
    return shared_dir() / "fixtures"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def catalog(settings: Settings) -> Iterator[Catalog]:
    cat = Catalog(settings.catalog_path)
    yield cat
    cat.close()


@pytest.fixture
def clock() -> Clock:
    return frozen_clock(FROZEN)


@pytest.fixture
def record_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>"


@pytest.fixture
def demo_site() -> Iterator[DemoSite]:
    with DemoSite() as site:
        yield site


@pytest.fixture
def unesco(catalog: Catalog) -> str:
    catalog.create_organization(
        "United Nations Educational, Scientific and Cultural Organization (UNESCO)", "UNESCO"
    )
    catalog.create_collection("unesco", "UNESCO", "UNESCO", "Partner directory")
    return "unesco"
