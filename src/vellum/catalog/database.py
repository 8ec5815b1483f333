"""The catalog's database: an engine for SQLite or PostgreSQL, and its schema revision.

A catalog lives in a SQLite file (the default, `settings.catalog_path`) or in a
PostgreSQL database (`VELLUM_DATABASE_URL`, e.g.
postgresql+psycopg://vellum:secret@127.0.0.1:5432/vellum). Its schema is versioned by
Alembic (the migrations are in `vellum/catalog/migrations/`, revisions in `REVISIONS`).

Opening a catalog brings it to the newest revision (`ensure_schema`):

- an empty database gets the whole schema at once and is stamped at `HEAD`;
- a catalog of a release before migrations (our tables, no `alembic_version`) is
  stamped at the first revision, then upgraded in place;
- a catalog at an older revision is upgraded in place;
- a catalog at a revision this code does not know (written by a newer Vellum) is refused.

A catalog already at `HEAD` costs one small query, and Alembic is not even imported.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    insert,
    inspect,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from vellum.catalog.models import Base, CatalogGenerationRow
from vellum.errors import VellumError

# Every revision of the schema this code knows, oldest first (migrations/versions/).
REVISIONS = ("0001", "0002")
HEAD = REVISIONS[-1]
BASELINE = REVISIONS[0]  # the schema of the releases before migrations

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
_ADVISORY_LOCK = 0x76656C6C756D  # "vellum": serializes schema changes on PostgreSQL

# Alembic's own table, made here too so that a new catalog needs no Alembic import.
_version_table = Table(
    VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def sqlite_url(path: Path) -> str:
    """The database URL of a SQLite catalog file."""
    return f"sqlite:///{path}"


def display_url(url: str | URL) -> str:
    """A database URL fit to print: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine for a `sqlite:///PATH` or `postgresql[+psycopg]://...` URL.

    Any other URL is refused with a VellumError naming what is accepted.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise VellumError(  # not repeated: it may hold a password
            "invalid database URL: use sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST:PORT/NAME"
        ) from None
    backend = parsed.get_backend_name()
    driver = parsed.get_driver_name() if "+" in parsed.drivername else ""
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return _sqlite_engine(parsed)
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return _postgres_engine(parsed.set(drivername="postgresql+psycopg"))
    raise VellumError(
        f"unsupported database URL {display_url(parsed)}: "
        "use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/NAME"
    )


def _sqlite_engine(url: URL) -> Engine:
    if url.database:
        try:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VellumError(
                f"cannot create data directory {Path(url.database).parent}: {exc.strerror}"
            ) from None
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    return engine


def _postgres_engine(url: URL) -> Engine:
    # Every stored time is UTC; the session time zone makes timestamps read back in UTC.
    options = " ".join(filter(None, [str(url.query.get("options", "")), "-c timezone=UTC"]))
    url = url.update_query_dict({"options": options})
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 10  # seconds: an unreachable host fails soon
    # No pre-ping (a round trip per checkout): after a server restart, the first query
    # fails and SQLAlchemy discards every pooled connection.
    return create_engine(url, connect_args=connect_args)


def current_revision(engine: Engine, where: str | None = None) -> str | None:
    """The schema revision the database is at; None when it has no version table."""
    with _connect(engine, where) as conn:
        return _revision(conn)


def ensure_schema(engine: Engine, where: str | None = None) -> None:
    """Bring the catalog to `HEAD`: create, stamp or upgrade it; refuse a newer one.

    `where` names the catalog in errors (its file's path, say); else its URL.
    """
    with _connect(engine, where) as conn:
        if _revision(conn) == HEAD:
            return
    with _schema_lock(engine, where) as conn:
        revision = _revision(conn)
        if revision == HEAD:
            return
        _refuse_unknown(revision)
        if revision is None and not _has_catalog_tables(conn):
            _create(conn)
        else:
            _migrate(conn, revision)


def upgrade(engine: Engine, where: str | None = None) -> tuple[str | None, str]:
    """Upgrade the catalog to `HEAD`; (revision before, revision after)."""
    with _connect(engine, where) as conn:
        before = _revision(conn)
    ensure_schema(engine, where)
    return before, HEAD


@contextlib.contextmanager
def _connect(engine: Engine, where: str | None = None) -> Iterator[Connection]:
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise VellumError(
            f"cannot open catalog {where or display_url(engine.url)}: {exc_reason(exc)}"
        ) from None


def exc_reason(exc: SQLAlchemyError) -> str:
    """The first line of what the driver said."""
    reason = str(getattr(exc, "orig", None) or exc).strip()
    return reason.splitlines()[0] if reason else type(exc).__name__


@contextlib.contextmanager
def _schema_lock(engine: Engine, where: str | None) -> Iterator[Connection]:
    """A connection in a transaction that no other process changing the schema shares.

    PostgreSQL: a transaction holding an advisory lock (its DDL is transactional).
    SQLite: BEGIN IMMEDIATE on a connection the driver leaves alone (pysqlite would
    otherwise commit before each DDL statement), so a second process waits, then sees
    the schema the first made.
    """
    with _connect(engine, where) as conn:
        if is_sqlite(conn):
            raw = conn.execution_options(isolation_level="AUTOCOMMIT")
            raw.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield raw
            except BaseException:
                raw.exec_driver_sql("ROLLBACK")
                raise
            raw.exec_driver_sql("COMMIT")
        else:
            with conn.begin():
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
                yield conn


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = conn.execute(_version_table.select()).scalars().all()
    if len(rows) > 1:
        raise VellumError(f"the catalog has several schema revisions ({', '.join(rows)})")
    return str(rows[0]) if rows else None


def _refuse_unknown(revision: str | None) -> None:
    if revision is not None and revision not in REVISIONS:
        raise VellumError(
            f"the catalog's schema is at revision {revision!r}, newer than this Vellum knows "
            f"(up to {HEAD}): upgrade Vellum to open it"
        )


def _has_catalog_tables(conn: Connection) -> bool:
    names = set(inspect(conn).get_table_names())
    return "organization" in names or "collection" in names


def _create(conn: Connection) -> None:
    """The whole schema in one go, stamped at HEAD (no migration replayed)."""
    Base.metadata.create_all(conn)
    _version_table.create(conn, checkfirst=True)
    conn.execute(insert(_version_table).values(version_num=HEAD))
    conn.execute(insert(CatalogGenerationRow).values(id=1, value=0))


def _migrate(conn: Connection, revision: str | None) -> None:
    """Stamp a pre-migration catalog at BASELINE if need be, then upgrade it to HEAD."""
    from alembic import command  # only here: importing Alembic costs time

    config = alembic_config(conn)
    if revision is None:
        command.stamp(config, BASELINE)
    command.upgrade(config, "head")


def alembic_config(conn: Connection) -> Any:
    """An Alembic Config for our migrations, running on `conn` (no alembic.ini)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


__all__ = [
    "BASELINE",
    "HEAD",
    "REVISIONS",
    "alembic_config",
    "current_revision",
    "display_url",
    "ensure_schema",
    "exc_reason",
    "is_sqlite",
    "make_engine",
    "sqlite_url",
    "upgrade",
]
