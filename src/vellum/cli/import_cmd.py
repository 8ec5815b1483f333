"""`vellum import SLUG FILE...`: bring WARC and ARC files made elsewhere into a collection."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from vellum.cli.context import CliContext, pass_context
from vellum.cli.progress import LazyProgress
from vellum.errors import VellumError
from vellum.index.importer import Importer, ImportReport

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


class ByteProgress(LazyProgress):
    """A Rich bar of the bytes of the files, done once copied and indexed.

    The importer counts each file twice (read while copied, read while indexed): the bar
    shows half of that, so that its total is the size of the files.
    """

    def __init__(self, out: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]importing"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=out,
            transient=False,
        )
        self._task = self._progress.add_task("import", total=None)
        self._done = 0

    def start(self, total: int) -> None:
        if total:
            self._progress.update(self._task, total=total // 2)
            self._show()

    def advance(self, done: int) -> None:
        self._done += done
        self._progress.update(self._task, completed=self._done // 2)


@click.command("import")
@click.argument("slug")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--in-place",
    is_flag=True,
    help="Leave the files where they are (linked from the collection) instead of copying.",
)
@click.option(
    "--recompress",
    is_flag=True,
    help="Recompress files gzipped as one stream record by record (as warcio recompress).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes indexing files at once (default: one per core).",
)
@pass_context
def import_warcs(
    obj: CliContext,
    slug: str,
    files: tuple[Path, ...],
    in_place: bool,
    recompress: bool,
    workers: int | None,
) -> None:
    """Copy WARC or ARC FILES into collection SLUG and index them.

    A WACZ package (FILE.wacz) is verified first (every hash in its datapackage.json)
    and refused whole if anything is wrong; then its WARC files and page lists come in.

    Files gzipped record by record (.warc.gz, .arc.gz) or not at all are accepted; files
    gzipped as one stream only with --recompress. A file already in the collection (same
    SHA-1) is skipped. Bad spots in a file are listed
    as FILE:OFFSET: REASON; every good record is still imported.
    """
    packages = [f for f in files if f.name.lower().endswith(".wacz")]
    if packages:  # WACZ packages: verified in full, then their WARCs come in as below
        from vellum.cli.wacz_cmd import import_packages

        import_packages(obj, slug, packages, workers)
        files = tuple(f for f in files if f not in packages)
        if not files:
            _update_search(obj, slug)
            return
    importer = Importer(obj.settings, obj.catalog, workers=workers, recompress=recompress)
    with ByteProgress(console) as progress:
        report = importer.run(slug, list(files), in_place=in_place, progress=progress)
    try:
        print_report(report)
    finally:
        _update_search(obj, slug)


def _update_search(obj: CliContext, slug: str) -> None:
    from vellum.cli.search_cmd import update_after

    update_after(obj, slug)  # the new WARC files become searchable


def print_report(report: ImportReport) -> None:
    """One line per file, the bad spots on stderr, a summary; exit 1 if anything was bad."""
    for done in report.imported:
        how = "linked" if done.in_place else "imported"
        console.print(
            f"{how.capitalize()} {done.source} as {done.filename}: "
            f"{_count(done.captures, 'capture')} ({done.size:,} bytes)",
            markup=False,
            highlight=False,
        )
    for skipped in report.skipped:
        if not skipped.bad:
            console.print(
                f"Skipped {skipped.source}: {skipped.reason}", markup=False, highlight=False
            )
    for line in report.problems:
        errors.print(line, markup=False, highlight=False)
    captures = sum(f.captures for f in report.imported)
    size = sum(f.size for f in report.imported)
    files = len(report.imported)
    console.print(
        f"{_count(files, 'file')} ({size:,} bytes, {_count(captures, 'capture')}) "
        f"added to {report.slug}; {len(report.skipped)} skipped",
        markup=False,
        highlight=False,
    )
    if report.failed:
        raise VellumError(
            f"{_count(len(report.problems), 'problem')} (listed above) skipped; "
            "everything else was imported"
        )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
