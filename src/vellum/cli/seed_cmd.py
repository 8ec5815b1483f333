"""`vellum seed`: the seeds of a collection, their scope, rules and frequency."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from vellum.capture.scope import DEFAULT_MAX_HOPS, SCOPE_TYPES
from vellum.catalog.seeds import SeedRules, Seeds, StoredSeed
from vellum.cli.context import CliContext, pass_context
from vellum.errors import InvalidInput, VellumError
from vellum.jobs.frequency import FREQUENCIES
from vellum.jobs.seedlist import add_seed_list

console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)
FILE_MAX = 4 * 1024 * 1024


@click.group()
def seed() -> None:
    """Seeds of collections: what is crawled, how far, how often."""


@seed.command("add")
@click.argument("slug")
@click.argument("url")
@click.option("--scope", type=click.Choice(SCOPE_TYPES), default="host", show_default=True)
@click.option(
    "--frequency", type=click.Choice(FREQUENCIES), default="one-time", show_default=True,
    help="How often it is crawled; one-time seeds run only when asked (crawl-job start).",
)  # fmt: skip
@click.option("--include", multiple=True, help="Also in scope: a SURT prefix or URL prefix.")
@click.option("--exclude", multiple=True, help="Never fetch: a SURT prefix or URL prefix.")
@click.option("--include-re", multiple=True, help="Also in scope: URLs matching this regex.")
@click.option("--exclude-re", multiple=True, help="Never fetch URLs matching this regex.")
@click.option("--max-hops", type=click.IntRange(min=0), default=DEFAULT_MAX_HOPS, show_default=True)
@click.option("--max-documents", type=click.IntRange(min=1), help="Stop after this many URLs.")
@click.option("--max-bytes", type=click.IntRange(min=1), help="Stop after this many bytes.")
@click.option("--max-time", type=click.FloatRange(min=1), help="Stop after this many seconds.")
@click.option("--notes", default="", help="Notes for curators.")
@pass_context
def seed_add(
    obj: CliContext,
    slug: str,
    url: str,
    scope: str,
    frequency: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    include_re: tuple[str, ...],
    exclude_re: tuple[str, ...],
    max_hops: int,
    max_documents: int | None,
    max_bytes: int | None,
    max_time: float | None,
    notes: str,
) -> None:
    """Add URL as a seed of collection SLUG."""
    rules = SeedRules(
        include, exclude, include_re, exclude_re, max_hops,
        {"documents": max_documents, "bytes": max_bytes, "seconds": max_time},
    )  # fmt: skip
    added = Seeds(obj.catalog).add(slug, url, scope, frequency, rules, notes)
    console.print(f"Added seed {added.id} to {slug}: {added.url} ({_plan(added)})", markup=False)


@seed.command("list")
@click.argument("slug")
@pass_context
def seed_list(obj: CliContext, slug: str) -> None:
    """List the seeds of collection SLUG."""
    table = Table("ID", "URL", "Scope", "Frequency", "State", "Next crawl", "Last crawl", "Notes")
    for s in Seeds(obj.catalog).of(slug):
        table.add_row(
            str(s.id),
            s.url,
            s.scope,
            s.frequency,
            "active" if s.active else "paused",
            _when(s.next_due) if s.active else "-",
            str(s.last_crawl_id) if s.last_crawl_id else "-",
            s.notes,
        )
    console.print(table)


@seed.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@click.option("--scope", type=click.Choice(SCOPE_TYPES), default="host", show_default=True)
@click.option("--frequency", type=click.Choice(FREQUENCIES), default="one-time", show_default=True)
@pass_context
def seed_import(obj: CliContext, slug: str, file: Path, scope: str, frequency: str) -> None:
    """Add the seeds in FILE: URLs one a line, or a CSV with a header row (url,scope,
    frequency,notes,max_hops,include,exclude and Dublin Core columns). Good lines are
    saved; bad ones are listed with their line number, and the command then exits 1."""
    text = _read(file)
    obj.catalog.get_collection(slug)
    result = add_seed_list(Seeds(obj.catalog), slug, text, scope, frequency)
    console.print(f"Added {len(result.added)} seed(s) to {slug}")
    for bad in result.bad:
        errors.print(f"{file}:{bad.line}: {bad.reason}", markup=False)
    if result.bad:
        raise VellumError(f"{len(result.bad)} line(s) of {file} were not added (listed above)")


@seed.command("pause")
@click.argument("seed_id", type=int)
@pass_context
def seed_pause(obj: CliContext, seed_id: int) -> None:
    """Pause seed SEED_ID: the scheduler leaves it alone until resumed."""
    changed = Seeds(obj.catalog).update(seed_id, active=False)
    console.print(f"Seed {changed.id} ({changed.url}) is paused", markup=False)


@seed.command("resume")
@click.argument("seed_id", type=int)
@pass_context
def seed_resume(obj: CliContext, seed_id: int) -> None:
    """Make seed SEED_ID active again (a run missed meanwhile runs once)."""
    changed = Seeds(obj.catalog).update(seed_id, active=True)
    console.print(f"Seed {changed.id} ({changed.url}) is active: {_plan(changed)}", markup=False)


@seed.command("set")
@click.argument("seed_id", type=int)
@click.option("--scope", type=click.Choice(SCOPE_TYPES))
@click.option("--frequency", type=click.Choice(FREQUENCIES))
@click.option("--notes")
@pass_context
def seed_set(
    obj: CliContext, seed_id: int, scope: str | None, frequency: str | None, notes: str | None
) -> None:
    """Change the scope, frequency or notes of seed SEED_ID."""
    if scope is None and frequency is None and notes is None:
        raise click.UsageError("nothing to change: give --scope, --frequency or --notes")
    changed = Seeds(obj.catalog).update(seed_id, scope=scope, frequency=frequency, notes=notes)
    console.print(f"Seed {changed.id} ({changed.url}): {_plan(changed)}", markup=False)


@seed.command("remove")
@click.argument("seed_id", type=int)
@pass_context
def seed_remove(obj: CliContext, seed_id: int) -> None:
    """Remove seed SEED_ID (crawls already made and their WARC files stay)."""
    gone = Seeds(obj.catalog).remove(seed_id)
    console.print(f"Removed seed {gone.id} ({gone.url}) from {gone.collection_slug}", markup=False)


def _plan(s: StoredSeed) -> str:
    when = f"next crawl {_when(s.next_due)}" if s.next_due else "crawled when asked"
    return f"{s.scope} scope, {s.frequency}, {when}"


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "-"


def _read(file: Path) -> str:
    try:
        if str(file) == "-":
            data = sys.stdin.buffer.read(FILE_MAX + 1)
        else:
            with file.open("rb") as f:
                data = f.read(FILE_MAX + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from None
    if len(data) > FILE_MAX:
        raise InvalidInput(f"{file} is larger than {FILE_MAX // (1024 * 1024)} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{file} is not UTF-8 text") from None
