"""`vellum import SLUG FILE.wacz`: check a whole WACZ package, then import its WARCs and pages.

Nothing is imported until every check has passed: the file is a ZIP; every entry name
stays inside the package (no absolute paths, no `..`); no entry inflates beyond
reason (a ZIP bomb); `datapackage.json` is there and lists every other file with a
size and hash that match (SHA-256, or any algorithm `hashlib` knows); and the
`datapackage-digest.json`, if present, holds the datapackage's hash. The WARC files
are extracted (hashed on the way) to a staging directory, then go through the same
`Importer` as any WARC; the page lists are kept in the collection's `pages/`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import posixpath
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vellum.catalog import Catalog
from vellum.errors import InvalidInput
from vellum.index.importer import Importer, ImportProgress, ImportReport
from vellum.settings import Settings

__all__ = ["WaczImport", "WaczLimits", "check_wacz", "import_wacz"]

_CHUNK = 1 << 20
_DIGEST_FILES = ("datapackage.json", "datapackage-digest.json")
_WARC_ENDINGS = (".warc", ".warc.gz", ".arc", ".arc.gz")


@dataclass(frozen=True)
class WaczLimits:
    """What a package may not exceed (ZIP bomb protection)."""

    max_ratio: float = 200.0  # inflated size / stored size of one deflated entry
    ratio_floor: int = 1 << 20  # entries smaller than this are not held to the ratio
    max_total: int = 1 << 41  # bytes once inflated, the whole package (2 TiB)
    max_json: int = 64 << 20  # datapackage.json and its digest


@dataclass
class WaczImport:
    """What importing a package did."""

    package: Path
    report: ImportReport
    pages: int = 0
    page_files: list[str] = field(default_factory=list)


def check_wacz(path: Path, limits: WaczLimits | None = None) -> dict[str, Any]:
    """Every check but the hashes (which need reading every file); returns the datapackage."""
    limits = limits or WaczLimits()
    with _open_zip(path) as zf:
        _check_entries(path, zf, limits)
        return _datapackage(path, zf, limits)


def import_wacz(
    settings: Settings,
    catalog: Catalog,
    slug: str,
    path: Path,
    limits: WaczLimits | None = None,
    progress: ImportProgress | None = None,
    workers: int | None = None,
) -> WaczImport:
    """Verify `path` in full, then import its WARC files and page lists into `slug`."""
    limits = limits or WaczLimits()
    catalog.get_collection(slug)  # NotFound before any work
    staging_parent = settings.collection_dir(slug)
    staging_parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".wacz-import-", dir=staging_parent))
    try:
        with _open_zip(path) as zf:
            _check_entries(path, zf, limits)
            package = _datapackage(path, zf, limits)
            extracted = _verify_and_extract(path, zf, package, staging)
        warcs = [p for name, p in extracted if name.startswith("archive/")]
        if not warcs:
            raise InvalidInput(f"{path.name}: no WARC files in archive/")
        report = Importer(settings, catalog, workers=workers).run(slug, warcs, progress=progress)
        _name_sources(report, path, extracted)
        result = WaczImport(path, report)
        pages_dir = settings.collection_dir(slug) / "pages"
        for name, extracted_path in extracted:
            if name.startswith("pages/") and name.endswith(".jsonl"):
                pages_dir.mkdir(exist_ok=True)
                kept = pages_dir / _free(pages_dir, f"{_stem(path)}-{posixpath.basename(name)}")
                shutil.move(extracted_path, kept)
                result.page_files.append(kept.name)
                result.pages += _count_pages(kept)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _name_sources(report: ImportReport, package: Path, extracted: list[tuple[str, Path]]) -> None:
    """Say `package.wacz:archive/x.warc.gz` where the report would name the staged copy."""
    labels = {str(staged): f"{package.name}:{name}" for name, staged in extracted}
    report.imported = [
        dataclasses.replace(f, source=Path(labels.get(str(f.source), str(f.source))))
        for f in report.imported
    ]
    report.skipped = [
        dataclasses.replace(f, source=Path(labels.get(str(f.source), str(f.source))))
        for f in report.skipped
    ]
    for staged, label in labels.items():
        report.problems = [p.replace(staged, label) for p in report.problems]


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"{path.name}: not a WACZ package: not a ZIP file ({exc})") from None


def _check_entries(path: Path, zf: zipfile.ZipFile, limits: WaczLimits) -> None:
    """Refuse unsafe names, duplicate names and entries that inflate without bound."""
    total = 0
    seen: set[str] = set()
    for info in zf.infolist():
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0] or "\x00" in name:
            raise InvalidInput(f"{path.name}: entry {name!r} has a path outside the package")
        if name in seen:
            raise InvalidInput(f"{path.name}: entry {name!r} appears twice")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise InvalidInput(f"{path.name}: entry {name!r} is encrypted")
        total += info.file_size
        stored = max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and info.file_size / stored > limits.max_ratio:
            raise InvalidInput(
                f"{path.name}: entry {name!r} inflates {info.file_size / stored:,.0f} times "
                f"({info.compress_size:,} to {info.file_size:,} bytes): refusing a ZIP bomb"
            )
    if total > limits.max_total:
        raise InvalidInput(
            f"{path.name}: inflates to {total:,} bytes, more than {limits.max_total:,}: "
            "refusing a ZIP bomb"
        )


def _datapackage(path: Path, zf: zipfile.ZipFile, limits: WaczLimits) -> dict[str, Any]:
    try:
        info = zf.getinfo("datapackage.json")
    except KeyError:
        raise InvalidInput(
            f"{path.name}: not a WACZ package: datapackage.json is missing"
        ) from None
    package = _read_json(path, zf, info, limits)
    if not isinstance(package, dict) or not isinstance(package.get("resources"), list):
        raise InvalidInput(f"{path.name}: datapackage.json has no list of resources")
    profile = package.get("profile")
    if profile not in ("data-package", "wacz", None):
        raise InvalidInput(f"{path.name}: datapackage.json has an unknown profile {profile!r}")
    listed: set[str] = set()
    for resource in package["resources"]:
        if not isinstance(resource, dict) or not isinstance(resource.get("path"), str):
            raise InvalidInput(f"{path.name}: datapackage.json lists a resource without a path")
        name = resource["path"]
        if name in listed:
            raise InvalidInput(f"{path.name}: datapackage.json lists {name!r} twice")
        listed.add(name)
        if not isinstance(resource.get("hash"), str) or ":" not in resource["hash"]:
            raise InvalidInput(f"{path.name}: datapackage.json gives {name!r} no hash")
        if name not in zf.namelist():
            raise InvalidInput(f"{path.name}: {name} is listed in datapackage.json but missing")
    for name in zf.namelist():
        if name not in listed and name not in _DIGEST_FILES and not name.endswith("/"):
            raise InvalidInput(f"{path.name}: {name} is not listed in datapackage.json")
    _check_digest(path, zf, limits)
    return package


def _check_digest(path: Path, zf: zipfile.ZipFile, limits: WaczLimits) -> None:
    if "datapackage-digest.json" not in zf.namelist():
        return
    digest = _read_json(path, zf, zf.getinfo("datapackage-digest.json"), limits)
    expected = digest.get("hash") if isinstance(digest, dict) else None
    if not isinstance(expected, str) or ":" not in expected:
        raise InvalidInput(f"{path.name}: datapackage-digest.json has no hash")
    actual = _hash(zf, zf.getinfo("datapackage.json"), expected.split(":", 1)[0], path, None)[0]
    if actual != expected.split(":", 1)[1].lower():
        raise InvalidInput(
            f"{path.name}: hash mismatch: datapackage.json does not match datapackage-digest.json"
        )
    signed = digest.get("signedData")
    if isinstance(signed, dict) and "domain" not in signed:  # the anonymous form
        from vellum.export.signing import verify_signed_data

        why = verify_signed_data(signed, expected)
        if why is not None:
            raise InvalidInput(f"{path.name}: bad signature in datapackage-digest.json: {why}")


def _read_json(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: WaczLimits) -> Any:
    if info.file_size > limits.max_json:
        raise InvalidInput(f"{path.name}: {info.filename} is too large ({info.file_size:,} bytes)")
    try:
        with zf.open(info) as f:
            return json.loads(f.read(limits.max_json + 1))
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"{path.name}: {info.filename} cannot be read: {exc}") from None


def _verify_and_extract(
    path: Path, zf: zipfile.ZipFile, package: dict[str, Any], staging: Path
) -> list[tuple[str, Path]]:
    """Hash every listed file; extract the WARCs and page lists. Raises on any mismatch."""
    extracted: list[tuple[str, Path]] = []
    for number, resource in enumerate(package["resources"]):
        name: str = resource["path"]
        algorithm, _, expected = resource["hash"].partition(":")
        wanted = name.startswith("archive/") and name.endswith(_WARC_ENDINGS)
        wanted = wanted or (name.startswith("pages/") and name.endswith(".jsonl"))
        target = None
        if wanted:
            target = staging / f"{number:05d}" / posixpath.basename(name)
            target.parent.mkdir()
        actual, size = _hash(zf, zf.getinfo(name), algorithm, path, target)
        if actual != expected.lower():
            raise InvalidInput(
                f"{path.name}: hash mismatch for {name}: datapackage.json says "
                f"{algorithm}:{expected}, the file has {algorithm}:{actual}"
            )
        listed_size = resource.get("bytes")
        if isinstance(listed_size, int) and listed_size != size:
            raise InvalidInput(
                f"{path.name}: size mismatch for {name}: datapackage.json says "
                f"{listed_size:,} bytes, the file has {size:,}"
            )
        if target is not None:
            extracted.append((name, target))
    return extracted


def _hash(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, algorithm: str, path: Path, target: Path | None
) -> tuple[str, int]:
    """Hash of an entry (hex) and its size, copying it to `target` on the way if given."""
    try:
        digest = hashlib.new(algorithm.lower())
    except ValueError:
        raise InvalidInput(
            f"{path.name}: {info.filename} has a hash of unknown type {algorithm!r}"
        ) from None
    size = 0
    out = open(target, "xb") if target is not None else None  # noqa: SIM115
    try:
        with zf.open(info) as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if out is not None:
                    out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InvalidInput(f"{path.name}: {info.filename} cannot be read: {exc}") from None
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest(), size


def _count_pages(path: Path) -> int:
    """Lines of a page list that are pages (not its header line, not blank)."""
    count = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f):
            if line.strip() and not (number == 0 and '"format"' in line):
                count += 1
    return count


def _stem(path: Path) -> str:
    return path.name[: -len(".wacz")] if path.name.endswith(".wacz") else path.stem


def _free(directory: Path, name: str) -> str:
    candidate, n = name, 1
    while (directory / candidate).exists():
        n += 1
        candidate = f"{name[: -len('.jsonl')]}-{n}.jsonl"
    return candidate
