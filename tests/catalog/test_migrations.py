"""Schema migrations, on SQLite and PostgreSQL: old catalogs upgrade in place, data intact."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from vellum.catalog import Catalog
from vellum.catalog.crawls import load_config
from vellum.catalog.database import (
    BASELINE,
    HEAD,
    MIGRATIONS,
    REVISIONS,
    alembic_config,
    current_revision,
    make_engine,
    sqlite_url,
)
from vellum.catalog.models import Base
from vellum.catalog.users import Users
from vellum.errors import VellumError
from vellum.settings import Settings

WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def url_of(settings: Settings) -> str:
    return settings.database_url or sqlite_url(settings.catalog_path)


@pytest.fixture
def engine(settings: Settings) -> Any:
    eng = make_engine(url_of(settings))
    yield eng
    eng.dispose()


def migrate_to(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def fill_baseline(conn: Connection) -> None:
    """Rows as a release before migrations wrote them (the 0001 schema)."""
    rows: list[tuple[str, dict[str, Any]]] = [
        ("organization", {"id": 1, "name": "Old Org", "acronym": "OLD", "created": WHEN}),
        (
            "collection",
            {
                "id": 1,
                "slug": "old",
                "title": "Old <pages>",
                "description": "kept",
                "public": False,
                "organization_id": 1,
                "created": WHEN,
            },
        ),
        (
            "crawl",
            {
                "id": 1,
                "collection_id": 1,
                "seeds": "https://example.org/\nhttps://example.net/",
                "depth": 2,
                "status": "finished",
                "started": WHEN,
                "finished": WHEN,
                "fetched": 12,
                "failed": 1,
                "bytes": 123456,
            },
        ),
        (
            "warc_file",
            {
                "id": 1,
                "collection_id": 1,
                "filename": "old-1.warc.gz",
                "path": None,
                "size": 3_000_000_000,
                "sha1": "a" * 40,
                "md5": "b" * 32,
                "source": "crawl",
                "added": WHEN,
            },
        ),
        (
            "api_token",
            {"id": 1, "organization_id": 1, "label": "l", "digest": "c" * 64, "created": WHEN},
        ),
        (
            "user",
            {"id": 1, "name": "olduser", "password_hash": "x", "admin": True, "created": WHEN},
        ),
        ("membership", {"id": 1, "user_id": 1, "organization_id": 1, "role": "viewer"}),
        (
            "crawl_state",
            {"crawl_id": 1, "config": '{"seeds": [1]}', "report": "{}", "updated": WHEN},
        ),
    ]
    for table, values in rows:
        values.pop("id", None)  # a fresh database numbers them 1 (PostgreSQL: its sequences)
        names = ", ".join(f'"{k}"' for k in values)
        params = ", ".join(f":{k}" for k in values)
        conn.execute(text(f'INSERT INTO "{table}" ({names}) VALUES ({params})'), values)


def build_pre_migration_catalog(engine: Engine) -> None:
    """A catalog of a release before migrations: the 0001 schema, rows, no version table."""
    migrate_to(engine, BASELINE)
    with engine.begin() as conn:
        fill_baseline(conn)
        conn.execute(text("DROP TABLE alembic_version"))


def differences(engine: Engine) -> list[Any]:
    """What alembic's autogenerate finds between the models and the database."""

    def compare_type(_ctx: Any, _a: Any, _b: Any, inspected: Any, metadata: Any) -> bool | None:
        # SQLite integers are 64 bits whatever the declared type; 0002 widens only on PG.
        if engine.dialect.name == "sqlite" and {type(inspected).__name__.upper()} <= {
            "INTEGER",
            "BIGINT",
        }:
            return type(metadata).__name__.upper() not in ("INTEGER", "BIGINTEGER")
        return None

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": compare_type})
        return list(compare_metadata(context, Base.metadata))


def test_revisions_match_the_migration_scripts() -> None:
    script = ScriptDirectory(str(MIGRATIONS))
    walked = [rev.revision for rev in script.walk_revisions()]
    assert tuple(reversed(walked)) == REVISIONS
    assert script.get_current_head() == HEAD


def test_new_catalog_is_made_at_head_without_drift(settings: Settings, engine: Engine) -> None:
    Catalog(settings.catalog_location).close()
    assert current_revision(engine) == HEAD
    assert differences(engine) == []


def test_pre_migration_catalog_is_upgraded_in_place(settings: Settings, engine: Engine) -> None:
    build_pre_migration_catalog(engine)
    assert current_revision(engine) is None
    catalog = Catalog(settings.catalog_location)
    try:
        assert current_revision(engine) == HEAD
        (coll,) = catalog.collections()
        assert (coll.slug, coll.title, coll.description, coll.public) == (
            "old",
            "Old <pages>",
            "kept",
            False,
        )
        assert coll.organization.acronym == "OLD"
        (crawl,) = catalog.crawls("old")
        assert crawl.seeds == ("https://example.org/", "https://example.net/")
        assert (crawl.fetched, crawl.failed, crawl.bytes, crawl.started) == (12, 1, 123456, WHEN)
        (warc,) = catalog.warc_files("old")
        assert (warc.filename, warc.size, warc.sha1) == ("old-1.warc.gz", 3_000_000_000, "a" * 40)
        assert load_config(catalog, 1) == {"seeds": [1]}
        user = Users(catalog).get("OldUser")
        assert user.admin and [m.role for m in user.memberships] == ["viewer"]
        with catalog.transaction() as s:
            added = s.execute(
                text("SELECT dublin_core, embargo_days FROM collection WHERE id = 1")
            ).one()
            assert tuple(added) == ("{}", 0)
            assert s.execute(text("SELECT test FROM crawl")).scalar() in (False, 0)
            assert s.execute(text("SELECT contact FROM organization")).scalar() == ""
        # The new parts work on the upgraded catalog, and ids go on after the old ones.
        new = catalog.create_collection("new", "OLD", "New")
        assert new.id == 2
        crawl_id = catalog.start_crawl(new, ["https://a/"], 0).id
        assert catalog.finish_crawl(crawl_id, "finished", 1, 0, 5 * 2**31).bytes == 5 * 2**31
    finally:
        catalog.close()
    assert differences(engine) == []


def test_older_revision_is_upgraded(settings: Settings, engine: Engine) -> None:
    migrate_to(engine, BASELINE)
    with engine.begin() as conn:
        fill_baseline(conn)
    assert current_revision(engine) == BASELINE
    with Catalog(settings.catalog_location) as catalog:
        assert [c.slug for c in catalog.collections()] == ["old"]
    assert current_revision(engine) == HEAD
    assert differences(engine) == []


def test_development_catalog_without_version_table_is_adopted(
    settings: Settings, engine: Engine
) -> None:
    """A catalog made by a build between 0001 and 0002 (new tables, no version table)."""
    with Catalog(settings.catalog_location) as catalog:
        catalog.create_organization("Dev Org", "DEV")
        catalog.create_collection("dev", "DEV", "Dev")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    assert current_revision(engine) is None
    with Catalog(settings.catalog_location) as catalog:
        assert [c.slug for c in catalog.collections()] == ["dev"]
    assert current_revision(engine) == HEAD
    assert differences(engine) == []


def test_newer_revision_is_refused_and_left_alone(settings: Settings, engine: Engine) -> None:
    Catalog(settings.catalog_location).close()
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(VellumError, match=r"revision '9999', newer than this Vellum knows"):
        Catalog(settings.catalog_location)
    assert current_revision(engine) == "9999"  # left as it was


def test_fast_path_does_not_import_alembic(settings: Settings) -> None:
    """Opening a catalog already at the newest revision needs no Alembic."""
    location = str(settings.catalog_location)
    code = (
        "import sys; from pathlib import Path; from vellum.catalog import Catalog; "
        f"loc = {location!r}; loc = loc if '://' in loc else Path(loc); "
        "Catalog(loc).close(); assert 'alembic' not in sys.modules, 'alembic imported'"
    )
    Catalog(settings.catalog_location).close()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_processes_opening_a_new_catalog_at_once_all_succeed(settings: Settings) -> None:
    """The web process and crawl workers may open a new catalog together: one makes it."""
    location = str(settings.catalog_location)
    code = (
        "from pathlib import Path; from vellum.catalog import Catalog; "
        f"loc = {location!r}; loc = loc if '://' in loc else Path(loc); "
        "c = Catalog(loc); c.create_organization(f'Org {__import__(\"os\").getpid()}', "
        "str(__import__('os').getpid())); c.close()"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with Catalog(settings.catalog_location) as catalog:
        assert len(catalog.organizations()) == 3
