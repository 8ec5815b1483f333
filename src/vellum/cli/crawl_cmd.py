"""`vellum crawl`: run, resume and report on crawls."""

from __future__ import annotations

import json
import time
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from vellum.capture.config import CrawlConfig, Limits, Politeness
from vellum.capture.engine import CrawlEvent
from vellum.capture.http import Timeouts
from vellum.capture.report import CrawlStats, report_tables
from vellum.capture.scope import DEFAULT_MAX_HOPS, SCOPE_TYPES, Seed
from vellum.capture.traps import TrapLimits
from vellum.cli.context import CliContext, pass_context
from vellum.errors import InvalidInput

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


class _DefaultGroup(click.Group):
    """`vellum crawl SLUG URL…` runs a crawl; `vellum crawl report ID` is a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args.insert(0, "run")
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultGroup)
def crawl() -> None:
    """Crawl web sites into a collection: `vellum crawl SLUG URL...` (see `crawl run --help`),
    `vellum crawl --resume SLUG`, `vellum crawl report ID`."""


class CrawlDisplay:
    """A live line: pages, bytes, queue, rate, errors (refreshed a few times a second)."""

    def __init__(self, out: Console) -> None:
        self._out = out
        self._live: Live | None = None
        self._started = time.monotonic()
        self._last = 0.0
        self.pages = 0
        self.bytes = 0
        self.errors = 0
        self.queued = 0
        self.stats: CrawlStats | None = None

    def update(self, event: CrawlEvent) -> None:
        if event.status is not None:
            self.pages += 1
            self.bytes += event.size
        elif event.message != "blocked by robots.txt":
            self.errors += 1
        self.queued = event.queued
        now = time.monotonic()
        if now - self._last < 0.25:
            return
        self._last = now
        if self._live is None:
            self._live = Live(console=self._out, refresh_per_second=4, transient=True)
            self._live.start()
        rate = self.pages / max(now - self._started, 1e-6)
        self._live.update(
            Text(
                f"crawling: {self.pages:,} pages, {self.bytes / 1e6:,.1f} MB, "
                f"{self.queued:,} queued, {rate:,.0f} pages/s, {self.errors:,} errors",
            )
        )

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


@crawl.command("run")
@click.argument("slug")
@click.argument("urls", nargs=-1)
@click.option("--resume", is_flag=True, help="Continue the collection's unfinished crawl.")
@click.option(
    "--scope",
    type=click.Choice(SCOPE_TYPES),
    default="host",
    show_default=True,
    help="Scope of the URL arguments: the page only, its path, its host, its domain.",
)
@click.option("--page", "page_seeds", multiple=True, help="A seed with page scope.")
@click.option("--path", "path_seeds", multiple=True, help="A seed with path scope.")
@click.option("--host", "host_seeds", multiple=True, help="A seed with host scope.")
@click.option("--domain", "domain_seeds", multiple=True, help="A seed with domain scope.")
@click.option(
    "--max-hops",
    "--depth",
    "max_hops",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_HOPS,
    show_default=True,
    help="How many links away from a seed to follow pages.",
)
@click.option("--include", multiple=True, help="Also in scope: a SURT prefix or URL prefix.")
@click.option("--exclude", multiple=True, help="Never fetch: a SURT prefix or URL prefix.")
@click.option("--include-re", multiple=True, help="Also in scope: URLs matching this regex.")
@click.option("--exclude-re", multiple=True, help="Never fetch URLs matching this regex.")
@click.option("--max-documents", type=click.IntRange(min=1), help="Stop after this many URLs.")
@click.option("--max-bytes", type=click.IntRange(min=1), help="Stop after this many bytes.")
@click.option("--max-time", type=click.FloatRange(min=0), help="Stop after this many seconds.")
@click.option("--host-max-documents", type=click.IntRange(min=1), help="URLs per host at most.")
@click.option("--host-max-bytes", type=click.IntRange(min=1), help="Bytes per host at most.")
@click.option("--concurrency", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--host-concurrency", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    help="Seconds between requests to one host (robots Crawl-delay wins if larger); "
    "default 0.25, or 0 for hosts on this machine.",
)
@click.option("--connect-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True)
@click.option("--read-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@click.option("--fetch-timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True)
@click.option(
    "--max-size", type=click.IntRange(min=1), default=200 * 1024 * 1024, show_default=True,
    help="Bytes of one response kept (the rest is cut: WARC-Truncated: length).",
)  # fmt: skip
@click.option("--ignore-robots", is_flag=True, help="Do not obey robots.txt (logged in warcinfo).")
@click.option(
    "--robots-unavailable",
    type=click.Choice(["disallow", "allow"]),
    default="disallow",
    show_default=True,
    help="What a 5xx or unreachable robots.txt means.",
)
@click.option("--allow-private", is_flag=True, help="Allow private/loopback addresses.")
@click.option("--no-sitemaps", is_flag=True, help="Do not read sitemaps.")
@click.option("--no-dedup", is_flag=True, help="Store duplicates in full, not as revisits.")
@click.option(
    "--no-search-index",
    is_flag=True,
    help="Do not update the search index afterwards ('vellum search reindex' does it later).",
)
@click.option(
    "--warc-size", type=click.IntRange(min=1), default=1_000_000_000, show_default=True,
    help="Start a new WARC file past this many bytes.",
)  # fmt: skip
@pass_context
def crawl_run(obj: CliContext, /, slug: str, urls: tuple[str, ...], resume: bool, **o: Any) -> None:
    """Crawl URLS into collection SLUG (or, with --resume, continue its unfinished crawl).

    Running the same command again after a crash also resumes the crawl."""
    from vellum.capture.crawler import Crawler

    display = CrawlDisplay(console)
    crawler = Crawler(obj.settings, obj.catalog, observer=display.update)
    seeds = [Seed(u, o["scope"]) for u in urls]
    for scope in SCOPE_TYPES:
        seeds += [Seed(u, scope) for u in o[f"{scope}_seeds"]]
    try:
        if resume:
            if seeds:
                raise InvalidInput("--resume takes only the collection, no URLs")
            report = crawler.resume(slug)
        else:
            if not seeds:
                raise InvalidInput("give at least one seed URL (or --resume)")
            again = crawler.find_resumable(slug, [s.url for s in seeds])
            if again is not None:
                console.print(f"Resuming crawl {again.id} (interrupted earlier)")
                report = crawler.resume(slug, again.id)
            else:
                report = crawler.start(slug, _config(seeds, o))
    finally:
        display.stop()
    s = report.stats
    console.print(
        f"Crawl {report.crawl.id} finished: {s.stored:,} URLs stored ({s.bytes:,} bytes; "
        f"{s.new:,} new, {s.duplicate:,} duplicate) in {', '.join(report.warc_files)}; "
        f"{s.errors:,} failed, {s.robots_blocked:,} blocked by robots.txt, "
        f"{s.out_of_scope:,} out of scope" + (f"; {s.stop_reason}" if s.stop_reason else "")
    )
    for error in report.errors[:10]:
        errors.print(f"  failed: {error}", markup=False, highlight=False)
    if o["no_search_index"]:
        return
    from vellum.cli.search_cmd import update_after

    update_after(obj, slug)  # the new WARC files become searchable


def _config(seeds: list[Seed], o: dict[str, Any]) -> CrawlConfig:
    from vellum.capture.crawler import _seed_url

    return CrawlConfig(
        seeds=tuple(Seed(_seed_url(s.url), s.scope) for s in seeds),
        include=tuple(o["include"]),
        exclude=tuple(o["exclude"]),
        include_re=tuple(o["include_re"]),
        exclude_re=tuple(o["exclude_re"]),
        max_hops=o["max_hops"],
        limits=Limits(
            documents=o["max_documents"],
            bytes=o["max_bytes"],
            seconds=o["max_time"],
            host_documents=o["host_max_documents"],
            host_bytes=o["host_max_bytes"],
        ),
        politeness=Politeness(o["concurrency"], o["host_concurrency"], o["delay"]),
        timeouts=Timeouts(o["connect_timeout"], o["read_timeout"], o["fetch_timeout"]),
        traps=TrapLimits(),
        max_body=o["max_size"],
        ignore_robots=o["ignore_robots"],
        robots_unavailable=o["robots_unavailable"],
        allow_private=o["allow_private"],
        sitemaps=not o["no_sitemaps"],
        dedup=not o["no_dedup"],
        rotate_bytes=o["warc_size"],
    )


@crawl.command("report")
@click.argument("crawl_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_context
def crawl_report(obj: CliContext, crawl_id: int, as_json: bool) -> None:
    """Show the report of crawl CRAWL_ID: status, MIME types, hosts, scope, robots, errors."""
    from vellum.catalog.crawls import crawl_slug, load_report

    slug = crawl_slug(obj.catalog, crawl_id)
    report = load_report(obj.catalog, crawl_id)
    crawl = next(c for c in obj.catalog.crawls(slug) if c.id == crawl_id)
    if as_json:
        out = {"crawl": crawl_id, "collection": slug, "status": crawl.status, **report}
        click.echo(json.dumps(out, indent=2, sort_keys=True))
        return
    console.print(
        f"Crawl {crawl_id} of {slug}: {crawl.status}, started {crawl.started:%Y-%m-%d %H:%M:%S}"
    )
    for title, rows in report_tables(report):
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column(overflow="fold")
        table.add_column(overflow="fold")
        for name, value in rows:
            table.add_row(name, value)
        console.print(table)
