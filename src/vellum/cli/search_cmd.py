"""`vellum search QUERY` and `vellum search reindex [SLUG]`."""

from __future__ import annotations

import json
import re

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from vellum.cli.context import CliContext, pass_context
from vellum.cli.progress import LazyProgress
from vellum.errors import VellumError
from vellum.search.feed import (
    FeedStats,
    open_search_index,
    rebuild_search_index,
    update_search_index,
)
from vellum.search.model import SORTS, SearchRequest, SearchResults
from vellum.search.query import parse_query

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

_TAG = re.compile(r"</?b>")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'", "&amp;": "&"}


class _SearchGroup(click.Group):
    """A group whose first argument is a query unless it names a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


@click.group("search", cls=_SearchGroup)
def search() -> None:
    """Full-text search: `vellum search QUERY` or `vellum search reindex [SLUG]`.

    QUERY: words (all must occur), "a phrase", OR, NOT or -word, prefix*, and the
    filters site:, host:, collection:, mime:, lang:, from:, to:. To search for the
    word "reindex" itself, quote it: vellum search '"reindex"'.
    """


@search.command("query")
@click.argument("words", nargs=-1, required=True)
@click.option(
    "--collection", "collections", multiple=True, help="Only this collection (repeatable)."
)
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@pass_context
def search_query(
    obj: CliContext,
    words: tuple[str, ...],
    collections: tuple[str, ...],
    sort: str,
    page: int,
    per_page: int,
    as_json: bool,
) -> None:
    """Search every collection (the operator sees private ones too)."""
    text = " ".join(words) + "".join(f" collection:{c}" for c in collections)
    query = parse_query(text)
    for slug in collections:
        obj.catalog.get_collection(slug)  # a clear error for a collection that does not exist
    index = open_search_index(obj.settings)
    try:
        results = index.search(SearchRequest(query, None, sort=sort, page=page, per_page=per_page))
    finally:
        index.close()
    if as_json:
        click.echo(json.dumps(_json(text, results), ensure_ascii=False, indent=2))
        return
    _table(text, results)


@search.command("reindex")
@click.argument("slug", required=False)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Extraction processes.")
@click.option(
    "--fast-phrases/--no-fast-phrases",
    default=None,
    help="Index pairs of common words, so that phrases of them take milliseconds, or "
    "stop (indexing then takes about 2/3 of the CPU). Whole index only; default: keep "
    "the index's choice (on in a new index).",
)
@pass_context
def search_reindex(
    obj: CliContext, slug: str | None, workers: int | None, fast_phrases: bool | None
) -> None:
    """Rebuild the search index of collection SLUG (or of every collection)."""
    if slug is not None and fast_phrases is not None:
        raise click.UsageError(
            "--fast-phrases and --no-fast-phrases rebuild the whole index: leave out SLUG"
        )
    with _Bar(console) as bar:
        stats = rebuild_search_index(
            obj.settings, obj.catalog, slug, bar.update, workers, fast_phrases=fast_phrases
        )
    print_stats(stats, console)
    if fast_phrases is not None:
        state = "on" if fast_phrases else "off"
        console.print(f"Fast phrases: {state}", markup=False, highlight=False)


def update_after(obj: CliContext, slug: str) -> None:
    """Index the new WARC files of `slug` for search (run after a crawl or an import).

    The crawl or import has succeeded whatever happens here; a failure says how to catch up.
    """
    try:
        stats = update_search_index(obj.settings, obj.catalog, slug)
    except VellumError as exc:
        errors.print(
            f"warning: search index not updated ({exc}); run 'vellum search reindex {slug}'",
            markup=False,
            highlight=False,
        )
        return
    if stats.files:
        print_stats(stats, console, show_problems=False)


def print_stats(stats: FeedStats, out: Console, show_problems: bool = True) -> None:
    """One summary line of a search-index update; bad spots of the files on stderr."""
    for line in stats.problems[:20] if show_problems else []:
        errors.print(line, markup=False, highlight=False)
    note = (
        f"; {stats.extraction_errors:,} not fully extracted (still findable by URL)"
        if stats.extraction_errors
        else ""
    )
    out.print(
        f"Search index: {stats.documents:,} documents from {stats.records:,} records in "
        f"{stats.files:,} WARC file{'' if stats.files == 1 else 's'}"
        f"{f', {stats.revisits:,} revisits' if stats.revisits else ''}{note}",
        markup=False,
        highlight=False,
    )


class _Bar(LazyProgress):
    def __init__(self, out: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]indexing text"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[name]}", markup=False),
            console=out,
        )
        self._task = self._progress.add_task("index", total=None, name="")

    def update(self, done: int, total: int, name: str) -> None:
        self._show()
        self._progress.update(self._task, completed=done, total=total, name=name[-40:])


def _json(text: str, results: SearchResults) -> dict[str, object]:
    return {
        "query": text,
        "total": results.total,
        "page": results.page,
        "per_page": results.per_page,
        "pages": results.pages,
        "hits": [hit.to_json() for hit in results.hits],
        "facets": {
            name: [{"value": v, "count": n} for v, n in pairs]
            for name, pairs in results.facets.items()
        },
    }


def _table(text: str, results: SearchResults) -> None:
    if not results.total:
        console.print(f"No results for {text!r}", markup=False, highlight=False)
        return
    table = Table("#", "Page", "Captured", "Collection")
    first = (results.page - 1) * results.per_page
    for number, hit in enumerate(results.hits, start=first + 1):
        title = escape(hit.title or hit.url)
        body = f"[bold]{title}[/bold]\n[cyan]{escape(hit.url)}[/cyan]\n{_rich(hit.snippet)}"
        ts = hit.latest
        when = f"{ts[:4]}-{ts[4:6]}-{ts[6:8]} {ts[8:10]}:{ts[10:12]}"
        if len(hit.timestamps) > 1:
            when += f"\n({len(hit.timestamps)} captures)"
        table.add_row(str(number), body, when, hit.collection)
    console.print(table)
    console.print(
        f"{results.total:,} result{'' if results.total == 1 else 's'} for {text!r}; "
        f"page {results.page} of {results.pages}",
        markup=False,
        highlight=False,
    )


def _rich(snippet: str) -> str:
    """Tantivy's HTML snippet as Rich markup: <b> bold, entities decoded, the rest escaped."""
    parts = []
    for i, piece in enumerate(_TAG.split(snippet)):
        for entity, char in _ENTITIES.items():
            piece = piece.replace(entity, char)
        piece = escape(re.sub(r"\s+", " ", piece))
        parts.append(f"[bold yellow]{piece}[/bold yellow]" if i % 2 else piece)
    return "".join(parts)
