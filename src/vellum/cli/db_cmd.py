"""`vellum db`: the catalog's database, its schema revision and upgrades."""

from __future__ import annotations

import click

from vellum.catalog.database import (
    HEAD,
    REVISIONS,
    current_revision,
    display_url,
    make_engine,
    sqlite_url,
    upgrade,
)
from vellum.cli.context import CliContext, pass_context
from vellum.errors import VellumError
from vellum.settings import Settings


@click.group()
def db() -> None:
    """The catalog database (SQLite by default, PostgreSQL with VELLUM_DATABASE_URL)."""


def _where(settings: Settings) -> tuple[str, str]:
    """(URL to open, how to name it)."""
    if settings.database_url:
        return settings.database_url, display_url(settings.database_url)
    return sqlite_url(settings.catalog_path), str(settings.catalog_path)


@db.command("status")
@pass_context
def db_status(obj: CliContext) -> None:
    """Print where the catalog is and its schema revision (changes nothing)."""
    url, where = _where(obj.settings)
    engine = make_engine(url)  # refuses a bad URL before anything is printed
    if not obj.settings.database_url and not obj.settings.catalog_path.exists():
        engine.dispose()
        click.echo(f"catalog: {where}")
        click.echo(f"revision: none yet (the catalog is made at revision {HEAD} on first use)")
        return
    try:
        revision = current_revision(engine, where)
    finally:
        engine.dispose()
    click.echo(f"catalog: {where}")
    if revision == HEAD:
        click.echo(f"revision: {HEAD} (the newest)")
    elif revision is None:
        click.echo(
            f"revision: none (made before migrations, or empty): 'vellum db upgrade' "
            f"brings it to {HEAD}"
        )
    elif revision in REVISIONS:
        click.echo(f"revision: {revision}: 'vellum db upgrade' brings it to {HEAD}")
    else:
        raise VellumError(
            f"revision: {revision}, newer than this Vellum knows (up to {HEAD}): upgrade Vellum"
        )


@db.command("upgrade")
@pass_context
def db_upgrade(obj: CliContext) -> None:
    """Bring the catalog's schema to the newest revision, in place (opening any catalog
    does this too)."""
    url, where = _where(obj.settings)
    engine = make_engine(url)
    try:
        before, after = upgrade(engine, where)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"catalog {where} is at revision {after} (the newest): nothing to do")
    else:
        click.echo(f"upgraded catalog {where} from revision {before or 'none'} to {after}")
