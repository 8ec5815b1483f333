"""Write a collection, or part of one, as a WACZ 1.1.1 package, streaming.

Layout (../shared/STANDARDS.md section 3): `archive/` holds the WARC files, stored
(ZIP STORE) so that index offsets are offsets into the entry; `indexes/` the merged
index, as `index.cdxj`, or above `zipnum_min_lines` lines as a ZipNum `index.cdx.gz`
(stored) with its `index.idx`; `pages/pages.jsonl` every HTML page with its title and
visible text; `datapackage.json` the size and SHA-256 of every other file, computed
while the file is written; `datapackage-digest.json` the SHA-256 of the datapackage,
signed on request. ZIP64 is used where an entry or the package passes 4 GB.

The index is read first (as stored, parsed only where a line may be a page), so that
worker processes read the pages' titles and text (`vellum.export.page_pool`, each WARC
file read once, front to back) while this process copies the WARC files into the ZIP.

Memory does not grow with the package: files are copied in chunks, index lines are
sorted in bounded memory (spilling to temporary files), pages go through temporary
files. The package is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from vellum import __version__
from vellum.catalog import Catalog
from vellum.clock import Clock, system_clock
from vellum.errors import VellumError
from vellum.export.page_pool import PagePool
from vellum.export.pages import PageTasks, pages_header, rfc3339
from vellum.export.selection import (
    ExportFile,
    Selection,
    original_of,
    plan_export,
    without_take_downs,
)
from vellum.export.zip_package import HashingWriter, Resource, ZipPackage
from vellum.index.cdxj import Capture
from vellum.index.importer import warc_path
from vellum.index.indexer import index_warc
from vellum.index.query import parse_line
from vellum.index.segments import sorted_unique
from vellum.index.store import IndexStore, SegmentedIndex, open_index
from vellum.index.zipnum import BLOCK_LINES, write_zipnum
from vellum.settings import Settings
from vellum.warc.entry import Entry
from vellum.warc.reader import scan, sniff_file
from vellum.warc.sniff import Kind

__all__ = ["WACZ_VERSION", "WaczOptions", "WaczReport", "write_wacz"]

WACZ_VERSION = "1.1.1"
ZIPNUM_MIN_LINES = 3000
"""Indexes of at least this many lines are written as ZipNum (`index.cdx.gz` + `.idx`)."""

_CHUNK = 1 << 20
_NAME_CHARS = re.compile(r"[^-a-z0-9._/]")

Signer = Callable[[str, str], dict[str, object]]
"""(hash, created) → the `signedData` object of datapackage-digest.json."""


@dataclass(frozen=True)
class WaczOptions:
    """How to write a package."""

    zipnum_min_lines: int = ZIPNUM_MIN_LINES
    block_lines: int = BLOCK_LINES
    sort_buffer_lines: int = 250_000
    workers: int | None = None  # processes extracting page text (default: one per core)
    text: bool = True  # the visible text of each page in pages.jsonl (titles always)
    signer: Signer | None = None


@dataclass
class WaczReport:
    """What a package holds."""

    path: Path
    warc_files: list[str] = field(default_factory=list)
    captures: int = 0
    pages: int = 0
    size: int = 0
    zipnum: bool = False
    signed: bool = False


def write_wacz(
    settings: Settings,
    catalog: Catalog,
    slug: str,
    target: Path,
    selection: Selection | None = None,
    options: WaczOptions | None = None,
    clock: Clock = system_clock,
) -> WaczReport:
    """Write the captures of `slug` that `selection` takes (all by default) to `target`."""
    selection = without_take_downs(catalog, slug, selection or Selection())
    options = options or WaczOptions()
    collection = catalog.get_collection(slug)
    if target.is_dir():
        raise VellumError(f"{target} is a directory; give the name of the .wacz file to write")
    store = open_index(settings.index_dir(slug), settings.warc_dir(slug))
    try:
        files = plan_export(settings, catalog, slug, store, selection)
        if not files:
            raise VellumError(f"nothing to export: no capture of {slug!r} matches the selection")
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".wacz-", dir=target.parent))
        partial = work / "package.wacz"

        def resolve(revisit: Capture) -> tuple[Capture, Path] | None:
            original = original_of(store, revisit)
            if original is None:
                return None
            try:
                return original, warc_path(settings, slug, original.filename)
            except VellumError:
                return None

        def tasks(name: str) -> PageTasks:
            return PageTasks(work / name, resolve, options.text)

        pool = PagePool(work, options.text, options.workers, options.sort_buffer_lines)
        try:
            report = _write(
                partial,
                work,
                files,
                _index_lines(store),
                tasks,
                pool,
                selection,
                options,
                clock(),
                (collection.title, collection.description),
            )
            os.replace(partial, target)
        finally:
            pool.close()
            shutil.rmtree(work, ignore_errors=True)
    except OSError as exc:
        raise VellumError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        store.close()
    report.path = target
    report.size = target.stat().st_size
    return report


def _write(
    partial: Path,
    work: Path,
    files: list[ExportFile],
    index: Iterator[bytes],
    tasks: Callable[[str], PageTasks],
    pool: PagePool,
    selection: Selection,
    options: WaczOptions,
    now: datetime,
    about: tuple[str, str],
) -> WaczReport:
    """Write the package. The index is read first for the files taken whole, so that
    the workers find their pages while this process copies the WARC files."""
    report = WaczReport(partial)
    package = ZipPackage(partial, now)
    kept_path, copied_path = work / "kept.cdxj", work / "copied.cdxj"
    try:
        for export_file in files:
            export_file.whole = export_file.whole or _is_arc(export_file.path)
        whole = {f.name: f for f in files if f.whole}
        whole_pages = tasks("whole.tasks")
        with open(kept_path, "wb") as kept:
            if whole:
                every = len(whole) == len(files)
                for line in _whole_lines(index, whole, whole_pages, every):
                    kept.write(line + b"\n")
        pool.submit(whole_pages)
        record_pages = tasks("records.tasks")
        with open(copied_path, "wb") as copied:
            for export_file in files:
                report.warc_files.append(export_file.name)
                if export_file.whole:
                    package.add_file(f"archive/{export_file.name}", export_file.path)
                else:
                    _copy_records(package, export_file, selection, copied, record_pages)
        pool.submit(record_pages)
        lines = sorted_unique(
            _chain(_read_lines(kept_path), _read_lines(copied_path)),
            options.sort_buffer_lines,
            work,
        )
        main_page = _add_index(package, work, lines, options, report)
        _add_pages(package, pool, options.text)
        report.pages = pool.count
        datapackage = _datapackage(package.resources, now, *about, main_page)
        package_hash = "sha256:" + package.add_bytes("datapackage.json", datapackage, False)
        digest: dict[str, object] = {"path": "datapackage.json", "hash": package_hash}
        if options.signer is not None:
            digest["signedData"] = options.signer(package_hash, _rfc3339(now))
            report.signed = True
        package.add_bytes(
            "datapackage-digest.json", json.dumps(digest, indent=2).encode(), listed=False
        )
    finally:
        package.close()
    return report


def _add_pages(package: ZipPackage, pool: PagePool, text: bool) -> None:
    """`pages/pages.jsonl`: the header, then the lines the workers made."""
    header = pages_header(text).encode() + b"\n"
    size = len(header) + pool.finish()
    name = "pages/pages.jsonl"
    with package.open(name, size, deflate=True) as entry:
        out = HashingWriter(entry)
        out.write(header)
        pool.write(out.write)
    package.resources.append(Resource(name, out.digest.hexdigest(), out.size))


def _is_arc(path: Path) -> bool:
    return sniff_file(path).kind in (Kind.ARC, Kind.ARC_GZ)


def _copy_records(
    package: ZipPackage,
    export_file: ExportFile,
    selection: Selection,
    lines_out: BinaryIO,
    pages: PageTasks,
) -> None:
    """Copy the records taken from one file (its warcinfo first); their index lines, with
    offsets in the copy, go to `lines_out`, their pages to `pages`."""
    path = export_file.path
    plain = sniff_file(path).kind is Kind.WARC
    with (
        open(path, "rb") as source,
        package.open(f"archive/{export_file.name}", path.stat().st_size + 4096, False) as entry,
    ):
        out = HashingWriter(entry)
        first = next(iter(scan(path)), None)
        if isinstance(first, Entry) and first.rec_type == "warcinfo":
            _copy_range(source, out, first.offset, first.length, plain)
        for capture in index_warc(path, filename=export_file.name):
            if not export_file.takes(capture, selection):
                continue
            moved = dataclasses.replace(capture, offset=out.size)
            _copy_range(source, out, capture.offset, capture.length, plain)
            lines_out.write(moved.to_line().encode() + b"\n")
            if capture.offset not in export_file.extra_offsets:
                pages.offer(capture, path)
    package.resources.append(
        Resource(f"archive/{export_file.name}", out.digest.hexdigest(), out.size)
    )


def _copy_range(
    source: BinaryIO, out: HashingWriter, offset: int, length: int, plain: bool
) -> None:
    source.seek(offset)
    left = length
    while left > 0:
        chunk = source.read(min(_CHUNK, left))
        if not chunk:
            raise VellumError(f"{source.name} ends inside the record at offset {offset}")
        out.write(chunk)
        left -= len(chunk)
    if plain:  # an uncompressed record's index length leaves out the CRLF CRLF after it
        out.write(b"\r\n\r\n")


def _index_lines(store: IndexStore) -> Iterator[bytes]:
    """The collection's index lines as stored (parsed only where they must be)."""
    if isinstance(store, SegmentedIndex):
        return store.lines()
    return (capture.to_line().encode() for capture in store.all())


def _maybe_page(line: bytes) -> bool:
    """Whether an index line may be a page or a revisit of one (see `is_page`)."""
    return b'"status": "200"' in line and (
        b'"mime": "text/html"' in line
        or b'"mime": "warc/revisit"' in line
        or b'"mime": "application/xhtml+xml"' in line
    )


def _whole_lines(
    index: Iterator[bytes],
    whole: dict[str, ExportFile],
    pages: PageTasks,
    every: bool,
) -> Iterator[bytes]:
    """Index lines (and pages) of the files copied whole, in index order; with `every`
    (every file exported is whole), lines are parsed only if they may be pages."""
    for line in index:
        if every and not _maybe_page(line):
            yield line
            continue
        capture = parse_line(line)
        export_file = whole.get(capture.filename)
        if export_file is None:
            continue
        yield line
        pages.offer(capture, export_file.path)


def _read_lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        for line in f:
            yield line.rstrip(b"\n")


def _chain(*streams: Iterable[bytes]) -> Iterator[bytes]:
    for stream in streams:
        yield from stream


def _add_index(
    package: ZipPackage,
    work: Path,
    lines: Iterator[bytes],
    options: WaczOptions,
    report: WaczReport,
) -> tuple[str, str] | None:
    """Write the sorted lines as `index.cdxj`, or as ZipNum if there are enough of them.

    Returns the URL and timestamp of the first HTML page indexed, for `mainPageUrl`.
    """
    cdxj = work / "index.cdxj"
    main_page: tuple[str, str] | None = None
    with open(cdxj, "wb") as out:
        for line in lines:
            out.write(line + b"\n")
            report.captures += 1
            if main_page is None and b'"status": "200"' in line and b'"mime": "text/html"' in line:
                capture = Capture.from_line(line.decode("utf-8", "surrogateescape"))
                main_page = (capture.url, capture.timestamp)
    if report.captures < options.zipnum_min_lines:
        package.add_file("indexes/index.cdxj", cdxj, deflate=True)
        return main_page
    report.zipnum = True
    cdx_gz, idx = work / "index.cdx.gz", work / "index.idx"
    with open(cdx_gz, "wb") as cdx_out, open(idx, "wb") as idx_out:
        write_zipnum(
            _read_lines(cdxj),
            cdx_out,
            idx_out,
            part="index.cdx.gz",
            flavour="wacz",
            block_lines=options.block_lines,
        )
    cdxj.unlink()
    package.add_file("indexes/index.cdx.gz", cdx_gz)
    package.add_file("indexes/index.idx", idx, deflate=True)
    return main_page


def _datapackage(
    resources: list[Resource],
    now: datetime,
    title: str,
    description: str,
    main_page: tuple[str, str] | None,
) -> bytes:
    names: set[str] = set()
    listed = []
    for resource in resources:
        name = _resource_name(resource.path, names)
        names.add(name)
        listed.append(
            {
                "name": name,
                "path": resource.path,
                "hash": f"sha256:{resource.sha256}",
                "bytes": resource.size,
            }
        )
    package: dict[str, object] = {
        "profile": "data-package",
        "wacz_version": WACZ_VERSION,
        "title": title,
        "description": description,
        "created": _rfc3339(now),
        "modified": _rfc3339(now),
        "software": f"Vellum {__version__}",
        "resources": listed,
    }
    if main_page is not None:
        package["mainPageUrl"] = main_page[0]
        package["mainPageDate"] = rfc3339(main_page[1])
    return json.dumps(package, indent=2).encode()


def _resource_name(path: str, taken: set[str]) -> str:
    """A Frictionless resource name (lowercase letters, digits, `-._/`), unique."""
    base = _NAME_CHARS.sub("-", path.rsplit("/", 1)[-1].lower()) or "file"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
