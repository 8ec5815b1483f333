"""`vellum export SLUG --wacz FILE | --warc DIR | --cdxj FILE`: a collection's data, out."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from vellum.cli.context import CliContext, pass_context
from vellum.errors import InvalidInput
from vellum.export.selection import Selection

console = Console(soft_wrap=True)


@click.command("export")
@click.argument("slug")
@click.option(
    "--wacz",
    "wacz",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a WACZ 1.1.1 package to this file.",
)
@click.option(
    "--warc",
    "warc_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Copy the WARC files to this directory, with checksum manifests.",
)
@click.option(
    "--cdxj",
    "cdxj",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the merged CDXJ index to this file.",
)
@click.option("--crawl", type=int, default=None, help="Only the captures of this crawl.")
@click.option("--from", "from_ts", default=None, help="WACZ: captures from this timestamp on.")
@click.option("--to", "to_ts", default=None, help="WACZ: captures up to this timestamp.")
@click.option("--url-prefix", default=None, help="WACZ: captures whose URL starts with this.")
@click.option(
    "--sign",
    "sign_key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="WACZ: sign with this ECDSA private key (PEM), anonymous form of wacz-auth.",
)
@click.option(
    "--no-text", is_flag=True, help="WACZ: list pages with their titles but not their text."
)
@pass_context
def export(
    obj: CliContext,
    slug: str,
    wacz: Path | None,
    warc_dir: Path | None,
    cdxj: Path | None,
    crawl: int | None,
    from_ts: str | None,
    to_ts: str | None,
    url_prefix: str | None,
    sign_key: Path | None,
    no_text: bool,
) -> None:
    """Export collection SLUG as a WACZ package, as WARC files, or as a CDXJ index."""
    chosen = [o for o in (wacz, warc_dir, cdxj) if o is not None]
    if len(chosen) != 1:
        raise InvalidInput("give exactly one of --wacz FILE, --warc DIR, --cdxj FILE")
    if wacz is None and (from_ts or to_ts or url_prefix or sign_key or no_text):
        raise InvalidInput("--from, --to, --url-prefix, --sign and --no-text go with --wacz")
    if wacz is not None:
        selection = Selection(crawl=crawl, from_ts=from_ts, to_ts=to_ts, url_prefix=url_prefix)
        _export_wacz(obj, slug, wacz, selection, sign_key, not no_text)
    elif warc_dir is not None:
        from vellum.export.warc_copy import copy_warcs

        report = copy_warcs(obj.settings, obj.catalog, slug, warc_dir, crawl)
        console.print(
            f"Copied {len(report.copied)} WARC file(s) to {warc_dir} "
            f"({len(report.unchanged)} already there, {report.size:,} bytes in all); "
            "checksums in manifest-sha1.txt and manifest-md5.txt",
            markup=False,
            highlight=False,
        )
    elif cdxj is not None:
        from vellum.export.warc_copy import write_cdxj

        lines = write_cdxj(obj.settings, obj.catalog, slug, cdxj, crawl)
        console.print(f"Wrote {lines:,} index lines to {cdxj}", markup=False, highlight=False)


def _export_wacz(
    obj: CliContext,
    slug: str,
    target: Path,
    selection: Selection,
    sign_key: Path | None,
    text: bool,
) -> None:
    from vellum.export.wacz import WaczOptions, write_wacz

    signer = None
    if sign_key is not None:
        from vellum.export.signing import load_signer

        signer = load_signer(sign_key)
    with console.status(f"writing {target}"):
        report = write_wacz(
            obj.settings,
            obj.catalog,
            slug,
            target,
            selection,
            WaczOptions(signer=signer, text=text),
        )
    index = "ZipNum index.cdx.gz + index.idx" if report.zipnum else "index.cdxj"
    signed = ", signed" if report.signed else ""
    console.print(
        f"Wrote {target}: {report.size:,} bytes, {len(report.warc_files)} WARC file(s), "
        f"{report.captures:,} captures ({index}), {report.pages:,} pages{signed}",
        markup=False,
        highlight=False,
    )
