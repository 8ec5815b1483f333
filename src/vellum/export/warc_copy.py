"""`vellum export SLUG --warc DIR` and `--cdxj FILE`: the collection's files as they are.

`--warc` copies the WARC files, checking each against the SHA-1 and MD5 recorded when
it came in (a file that no longer matches is reported, not copied), and writes
`manifest-sha1.txt` and `manifest-md5.txt` in the format of `sha1sum -c`. A file
already in DIR with the same checksum is left as it is, so an interrupted export can
be run again. `--cdxj` writes the merged index, sorted, in pywb's CDXJ.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from vellum.catalog import Catalog
from vellum.catalog.catalog import WarcFile
from vellum.errors import NotFound, VellumError
from vellum.export.selection import Selection, crawl_of_files, without_take_downs
from vellum.index.importer import warc_path
from vellum.index.store import open_index
from vellum.settings import Settings

__all__ = ["CopyReport", "copy_warcs", "write_cdxj"]

_CHUNK = 1 << 20
MANIFESTS = {"sha1": "manifest-sha1.txt", "md5": "manifest-md5.txt"}


@dataclass
class CopyReport:
    """What `copy_warcs` did."""

    directory: Path
    copied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # already there, same checksums
    size: int = 0


def _files(catalog: Catalog, slug: str, crawl: int | None) -> list[WarcFile]:
    catalog.get_collection(slug)  # NotFound for people
    files = catalog.warc_files(slug)
    if crawl is None:
        return files
    if crawl not in {c.id for c in catalog.crawls(slug)}:
        raise NotFound(f"collection {slug!r} has no crawl {crawl}")
    owners = crawl_of_files(catalog, slug)
    return [f for f in files if (c := owners.get(f.filename)) is not None and c.id == crawl]


def copy_warcs(
    settings: Settings, catalog: Catalog, slug: str, directory: Path, crawl: int | None = None
) -> CopyReport:
    """Copy the WARC files of `slug` (of one crawl if given) to `directory`, verified."""
    files = _files(catalog, slug, crawl)
    if not files:
        raise VellumError(f"nothing to export: collection {slug!r} has no WARC files")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VellumError(f"cannot create {directory}: {exc.strerror}") from None
    report = CopyReport(directory)
    for warc in files:
        target = directory / warc.filename
        if target.exists() and _sums(target) == (warc.sha1, warc.md5):
            report.unchanged.append(warc.filename)
        else:
            _copy_verified(warc_path(settings, slug, warc.filename), target, warc)
            report.copied.append(warc.filename)
        report.size += warc.size
    for algorithm, name in MANIFESTS.items():
        lines = "".join(f"{getattr(w, algorithm)}  {w.filename}\n" for w in files)
        _replace(directory / name, lines.encode())
    return report


def _copy_verified(source: Path, target: Path, warc: WarcFile) -> None:
    temp = target.with_name(f".{target.name}.part")
    sha1, md5 = hashlib.sha1(), hashlib.md5()
    try:
        with open(source, "rb") as f, open(temp, "wb") as out:
            while chunk := f.read(_CHUNK):
                sha1.update(chunk)
                md5.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if (sha1.hexdigest(), md5.hexdigest()) != (warc.sha1, warc.md5):
            raise VellumError(
                f"{warc.filename} no longer matches the checksums recorded when it came in "
                f"(SHA-1 {warc.sha1}, now {sha1.hexdigest()}); not exported"
            )
        os.replace(temp, target)
    except OSError as exc:
        raise VellumError(
            f"cannot copy {warc.filename} to {target.parent}: {exc.strerror}"
        ) from None
    finally:
        temp.unlink(missing_ok=True)


def _sums(path: Path) -> tuple[str, str]:
    sha1, md5 = hashlib.sha1(), hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            sha1.update(chunk)
            md5.update(chunk)
    return sha1.hexdigest(), md5.hexdigest()


def _replace(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.part")
    temp.write_bytes(data)
    os.replace(temp, path)


def write_cdxj(
    settings: Settings, catalog: Catalog, slug: str, target: Path, crawl: int | None = None
) -> int:
    """Write the collection's merged index (one crawl's entries if given); returns lines."""
    names = {f.filename for f in _files(catalog, slug, crawl)}
    excluded = without_take_downs(catalog, slug, Selection()).excluded  # take-downs left out
    store = open_index(settings.index_dir(slug), settings.warc_dir(slug))
    temp = target.with_name(f".{target.name}.part")
    count = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "wb") as out:
            for capture in store.all():
                if capture.filename in names and not (
                    excluded is not None and excluded.excluded_key(capture.urlkey)
                ):
                    out.write(capture.to_line().encode() + b"\n")
                    count += 1
        os.replace(temp, target)
    except OSError as exc:
        raise VellumError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        store.close()
        temp.unlink(missing_ok=True)
    return count
