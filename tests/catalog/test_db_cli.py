"""`vellum db status` and `vellum db upgrade`, and bad database URLs, as a user runs them."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.catalog.test_migrations import build_pre_migration_catalog
from tests.test_cli import VELLUM, assert_one_line_error, run
from vellum.catalog.database import HEAD, current_revision, make_engine, sqlite_url
from vellum.errors import VellumError
from vellum.settings import Settings


def where(settings: Settings) -> str:
    return settings.database_url or sqlite_url(settings.catalog_path)


def test_status_and_upgrade_of_a_pre_migration_catalog(settings: Settings) -> None:
    engine = make_engine(where(settings))
    try:
        build_pre_migration_catalog(engine)
        status = run(settings.data_dir, "db", "status")
        assert status.returncode == 0, status.stderr
        assert "revision: none (made before migrations" in status.stdout
        assert current_revision(engine) is None  # status changes nothing

        upgraded = run(settings.data_dir, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        assert f"from revision none to {HEAD}" in upgraded.stdout
        assert current_revision(engine) == HEAD
        status = run(settings.data_dir, "db", "status")
        assert f"revision: {HEAD} (the newest)" in status.stdout
        with engine.connect() as conn:  # data kept
            assert conn.execute(text("SELECT slug FROM collection")).scalars().all() == ["old"]
        if settings.database_url:
            assert ":vellum@" not in status.stdout and ":***@" in status.stdout  # no password
    finally:
        engine.dispose()


def test_status_of_a_catalog_not_made_yet(settings: Settings) -> None:
    if settings.database_url:
        pytest.skip("SQLite only: a PostgreSQL database exists before Vellum uses it")
    status = run(settings.data_dir, "db", "status")
    assert status.returncode == 0 and "none yet" in status.stdout
    assert not settings.catalog_path.exists()  # still not made


def test_a_newer_catalog_is_refused_by_every_command(settings: Settings) -> None:
    assert run(settings.data_dir, "org", "create", "Org", "--acronym", "O").returncode == 0
    engine = make_engine(where(settings))
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        for args in (["org", "list"], ["db", "status"]):
            assert_one_line_error(run(settings.data_dir, *args), "0099", "newer than this Vellum")
        assert current_revision(engine) == "0099"
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("mysql://u:secret@127.0.0.1/x", "unsupported database URL mysql://u:***@127.0.0.1/x"),
        ("postgresql+asyncpg://u:p@127.0.0.1/x", "unsupported database URL"),
        ("sqlite+aiosqlite:///x.db", "unsupported database URL"),
        ("not a url", "invalid database URL"),
        ("", "invalid database URL"),
    ],
)
def test_unsupported_urls_are_refused(url: str, needle: str) -> None:
    with pytest.raises(VellumError, match=re.escape(needle)) as caught:
        make_engine(url)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "args", "needle"),
    [
        ("mysql://u:secret@127.0.0.1/x", ["db", "status"], "unsupported database URL"),
        ("not a url", ["org", "list"], "invalid database URL"),
        ("postgresql://u:secret@127.0.0.1:{port}/x", ["db", "upgrade"], "cannot open catalog"),
    ],
)
def test_bad_database_url_is_one_line_and_exit_1(
    tmp_path: Path, url: str, args: list[str], needle: str
) -> None:
    done = subprocess.run(
        [*VELLUM, "--data", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "VELLUM_DATABASE_URL": url.format(port=free_port())},
    )
    assert done.returncode == 1, done
    assert_one_line_error(done, needle)
    assert "secret" not in done.stderr
    assert not (tmp_path / "vellum.db").exists()  # no SQLite catalog made instead
