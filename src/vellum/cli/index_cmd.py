"""`vellum index …`: query, rebuild and verify a collection's index."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from vellum.cli.context import CliContext, pass_context
from vellum.errors import VellumError
from vellum.export.cdx_api import OUTPUTS, format_lines, parse_query
from vellum.index.cdxj import Capture
from vellum.index.indexer import index_warc
from vellum.index.store import open_index

console = Console(soft_wrap=True)


@click.group()
def index() -> None:
    """Query, rebuild and verify a collection's CDXJ index."""


@index.command("query")
@click.argument("slug")
@click.argument("url")
@click.option(
    "--match-type",
    type=click.Choice(["exact", "prefix", "host", "domain"]),
    default="exact",
    show_default=True,
    help="How URL selects captures.",
)
@click.option("--from", "from_ts", help="Earliest timestamp (1-14 digits, padded down).")
@click.option("--to", "to_ts", help="Latest timestamp (1-14 digits, padded up).")
@click.option("--closest", help="Sort by distance to this timestamp.")
@click.option("--filter", "filters", multiple=True, help="[!][=|~]field:expression (repeatable).")
@click.option("--limit", help="At most this many results.")
@click.option("--reverse", is_flag=True, help="Newest first.")
@click.option("--fl", help="Comma-separated fields to output.")
@click.option("--output", type=click.Choice(OUTPUTS), default="cdxj", show_default=True)
@pass_context
def query_command(
    obj: CliContext,
    slug: str,
    url: str,
    match_type: str,
    from_ts: str | None,
    to_ts: str | None,
    closest: str | None,
    filters: tuple[str, ...],
    limit: str | None,
    reverse: bool,
    fl: str | None,
    output: str,
) -> None:
    """Print the captures of URL in collection SLUG (the CDX server API's semantics)."""
    obj.catalog.get_collection(slug)
    params: dict[str, list[str]] = {"url": [url], "matchType": [match_type], "output": [output]}
    for name, value in (("from", from_ts), ("to", to_ts), ("limit", limit), ("fl", fl)):
        if value:
            params[name] = [value]
    if closest:
        params["closest"], params["sort"] = [closest], ["closest"]
    elif reverse:
        params["sort"] = ["reverse"]
    params["filter"] = list(filters)
    query, fmt = parse_query(params)
    store = open_index(obj.settings.index_dir(slug), obj.settings.warc_dir(slug))
    try:
        for line in format_lines(store.query(query), fmt, query.fields, f"/{slug}/"):
            sys.stdout.write(line)
    finally:
        store.close()


@index.command("rebuild")
@click.argument("slug")
@pass_context
def rebuild(obj: CliContext, slug: str) -> None:
    """Rebuild the index of collection SLUG from its WARC files."""
    obj.catalog.get_collection(slug)
    warcs = _warc_files(obj, slug)
    store = open_index(obj.settings.index_dir(slug), obj.settings.warc_dir(slug))
    total = 0
    try:
        with _progress() as progress:
            task = progress.add_task("indexing", total=len(warcs))
            for path in warcs:
                store.remove(path.name)
                captures = list(index_warc(path))
                store.append(path.name, captures)
                store.seal(path.name)
                total += len(captures)
                progress.advance(task)
    finally:
        store.close()
    console.print(f"Rebuilt the index of {slug}: {total} captures from {len(warcs)} WARC file(s)")


@index.command("verify")
@click.argument("slug")
@pass_context
def verify(obj: CliContext, slug: str) -> None:
    """Check that every index entry points at a record and every record is indexed."""
    obj.catalog.get_collection(slug)
    warcs = {p.name: p for p in _warc_files(obj, slug)}
    store = open_index(obj.settings.index_dir(slug), obj.settings.warc_dir(slug))
    try:
        indexed: dict[str, set[str]] = {}
        for capture in store.all():
            indexed.setdefault(capture.filename, set()).add(capture.to_line())
    finally:
        store.close()
    problems = [f"{name}: indexed, but no such WARC file" for name in indexed if name not in warcs]
    checked = 0
    for name, path in sorted(warcs.items()):
        expected = {c.to_line() for c in index_warc(path)}
        have = indexed.get(name, set())
        checked += len(expected)
        problems += [f"{name}: record not indexed: {_short(line)}" for line in expected - have]
        problems += [
            f"{name}: entry points at no record: {_short(line)}" for line in have - expected
        ]
    if problems:
        for problem in problems[:50]:
            click.echo(problem, err=True)
        more = " (first 50 shown)" if len(problems) > 50 else ""
        raise VellumError(
            f"index of {slug} does not match its WARC files: "
            f"{len(problems)} problem(s){more}; run 'vellum index rebuild {slug}'"
        )
    console.print(f"Index of {slug} is complete: {checked} records in {len(warcs)} WARC file(s)")


def _warc_files(obj: CliContext, slug: str) -> list[Path]:
    directory = obj.settings.warc_dir(slug)
    if not directory.exists():
        return []
    return sorted(
        p for p in directory.iterdir() if p.name.endswith((".warc", ".warc.gz", ".arc", ".arc.gz"))
    )


def _short(line: str) -> str:
    capture = Capture.from_line(line)
    return f"{capture.timestamp} {capture.url} @{capture.offset}"


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    )
