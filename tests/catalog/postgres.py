"""A PostgreSQL server for the catalog tests: one fresh schema per test, dropped after.

The server's URL comes from $VELLUM_TEST_POSTGRES_URL (`make test` starts a server
with .ci/postgres.sh and sets it). Without it, PostgreSQL tests are skipped with a
message, unless $VELLUM_TEST_POSTGRES_REQUIRED or $CI is set: then they fail, so that
CI cannot pass without exercising PostgreSQL. A URL whose server does not answer
always fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from vellum.catalog import Catalog
from vellum.catalog.models import Base
from vellum.settings import Settings

URL_ENV = "VELLUM_TEST_POSTGRES_URL"
REQUIRED_ENV = "VELLUM_TEST_POSTGRES_REQUIRED"


def server_url() -> str:
    """The test server's URL, or a skip (a failure under `make test` / CI) without one."""
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return url
    message = (
        f"no PostgreSQL server for the tests: set {URL_ENV} "
        "(`bash .ci/postgres.sh` starts one and prints its URL; `make test` does both)"
    )
    if os.environ.get(REQUIRED_ENV) or os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@cache
def _admin(url: str) -> Engine:
    return create_engine(url, pool_size=1, isolation_level="AUTOCOMMIT")


def schema_url(url: str, schema: str) -> str:
    """`url` with every connection working in `schema`."""
    return (
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


@contextmanager
def fresh_schema() -> Iterator[str]:
    """The URL of a new, empty schema of the test database; the schema is dropped after."""
    url = server_url()
    schema = f"t_{secrets.token_hex(6)}"
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        pytest.fail(f"the PostgreSQL server at {URL_ENV} does not answer: {exc.orig}")
    try:
        yield schema_url(url, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def stored_bytes(settings: Settings, catalog: Catalog) -> bytes:
    """What the catalog stores, to look for secrets in: the SQLite file's bytes, or
    every value of every table of a PostgreSQL catalog."""
    if settings.database_url is None:
        return settings.catalog_path.read_bytes()
    values: list[str] = []
    with catalog.transaction() as s:
        for table in Base.metadata.sorted_tables:
            values.extend(str(v) for row in s.execute(select(table)) for v in row)
    return "\n".join(values).encode()
