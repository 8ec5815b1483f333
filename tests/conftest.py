"""Shared fixtures: data directories, a frozen clock, the demo site, fixture paths."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.catalog.postgres import fresh_schema
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


# Tests here run against both catalog backends: SQLite and PostgreSQL (tests/catalog/postgres.py).
BOTH_BACKENDS = ("test_catalog.py", "access/", "auth/", "catalog/")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the tests of BOTH_BACKENDS that use the catalog once per backend; with
    $VELLUM_TEST_CATALOG_BACKENDS (say "postgresql"), every test on those given."""
    if "catalog_backend" not in metafunc.fixturenames:
        return
    chosen = os.environ.get("VELLUM_TEST_CATALOG_BACKENDS", "").strip()
    where = metafunc.definition.path.relative_to(REPO / "tests").as_posix()
    if chosen:
        metafunc.parametrize("catalog_backend", chosen.split(","), indirect=True)
    elif where.startswith(BOTH_BACKENDS):
        metafunc.parametrize("catalog_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def catalog_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str | None]:
    """None for the SQLite catalog file; else the URL of a fresh PostgreSQL schema, also
    in $VELLUM_DATABASE_URL for the commands the test runs."""
    backend = getattr(request, "param", "sqlite")
    if backend not in ("sqlite", "postgresql"):
        pytest.fail(f"unknown catalog backend {backend!r}: sqlite or postgresql")
    if backend == "sqlite":
        monkeypatch.delenv("VELLUM_DATABASE_URL", raising=False)
        yield None
        return
    with fresh_schema() as url:
        monkeypatch.setenv("VELLUM_DATABASE_URL", url)
        yield url


@pytest.fixture
def settings(tmp_path: Path, catalog_backend: str | None) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=catalog_backend)


@pytest.fixture
def catalog(settings: Settings) -> Iterator[Catalog]:
    cat = Catalog(settings.catalog_location)
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
