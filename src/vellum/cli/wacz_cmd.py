"""The WACZ branch of `vellum import`: verify a package in full, then import it."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from vellum.cli.context import CliContext
from vellum.cli.import_cmd import ByteProgress, print_report

console = Console(soft_wrap=True)


def import_packages(obj: CliContext, slug: str, packages: list[Path], workers: int | None) -> None:
    """Import each WACZ package; the first one refused stops the command (nothing of it
    is imported)."""
    from vellum.index.wacz_import import import_wacz

    for package in packages:
        with ByteProgress(console) as progress:
            done = import_wacz(
                obj.settings, obj.catalog, slug, package, progress=progress, workers=workers
            )
        console.print(
            f"Verified {package.name}: every hash in datapackage.json matches",
            markup=False,
            highlight=False,
        )
        print_report(done.report)
        if done.page_files:
            console.print(
                f"Kept {done.pages:,} pages from {package.name} in pages/"
                f"{', pages/'.join(done.page_files)}",
                markup=False,
                highlight=False,
            )
