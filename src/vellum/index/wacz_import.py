"""`vellum import SLUG FILE.wacz`: check a whole WACZ package, then import its WARCs and pages.

Nothing is imported until every check has passed: the file is a ZIP; every entry name
stays inside the package (no absolute paths, no `..`); no entry inflates beyond
reason (a ZIP bomb); `datapackage.json` is there and lists every other file with a
size and hash that match (SHA-256, or any algorithm `hashlib` knows); and the
`datapackage-digest.json`, if present, holds the datapackage's hash. The WARC files
are extracted (hashed on the way, in one thread, while another inflates and hashes the
page lists; each file is read, and inflated, by a thread of its own, straight from the
package without zipfile's CRC-32 since the hash checks more) to a staging directory on
the collection's file system, then go through the same `Importer` as any WARC, which
moves them in rather than copying them again; the page lists are kept in the
collection's `pages/`, their pages counted on the way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import posixpath
import queue
import shutil
import struct
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vellum.catalog import Catalog
from vellum.errors import InvalidInput
from vellum.index.importer import Importer, ImportProgress, ImportReport
from vellum.settings import Settings

__all__ = ["WaczImport", "WaczLimits", "check_wacz", "import_wacz"]

_CHUNK = 1 << 20
_AHEAD = 8  # chunks read ahead of the hashing
# a local file header: signature ... file name length, extra field length
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
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
        extracted, page_counts = _verify_and_extract(path, package, staging)
        warcs = [p for name, p in extracted if name.startswith("archive/")]
        if not warcs:
            raise InvalidInput(f"{path.name}: no WARC files in archive/")
        importer = Importer(settings, catalog, workers=workers)
        report = importer.run(slug, warcs, progress=progress, take=True)
        _name_sources(report, path, extracted)
        result = WaczImport(path, report)
        pages_dir = settings.collection_dir(slug) / "pages"
        for name, extracted_path in extracted:
            if name.startswith("pages/") and name.endswith(".jsonl"):
                pages_dir.mkdir(exist_ok=True)
                kept = pages_dir / _free(pages_dir, f"{_stem(path)}-{posixpath.basename(name)}")
                shutil.move(extracted_path, kept)
                result.page_files.append(kept.name)
                result.pages += page_counts[name]
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
    path: Path, package: dict[str, Any], staging: Path
) -> tuple[list[tuple[str, Path]], dict[str, int]]:
    """Hash every listed file; extract the WARCs and page lists. Raises on any mismatch.

    The WARC files (stored: reading them is hashing them) and the rest (deflated: most
    of the work is inflating them) are read in two threads, each with its own handle on
    the package: hashing and inflating let go of the interpreter, so both cores work.
    Returns the files extracted and the pages counted in each page list.
    """
    jobs: list[tuple[int, dict[str, Any], Path | None]] = []
    for number, resource in enumerate(package["resources"]):
        name: str = resource["path"]
        wanted = name.startswith("archive/") and name.endswith(_WARC_ENDINGS)
        wanted = wanted or (name.startswith("pages/") and name.endswith(".jsonl"))
        target = None
        if wanted:
            target = staging / f"{number:05d}" / posixpath.basename(name)
            target.parent.mkdir()
        jobs.append((number, resource, target))
    warcs = [job for job in jobs if job[1]["path"].startswith("archive/")]
    rest = [job for job in jobs if not job[1]["path"].startswith("archive/")]
    failures: dict[int, InvalidInput] = {}
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def work(share: list[tuple[int, dict[str, Any], Path | None]]) -> None:
        """Check files in order, until one fails or the other thread's failure is
        earlier in the list than the next file (so the first bad file is named)."""
        with _open_zip(path) as zf:
            for number, resource, target in share:
                with lock:
                    if failures and number > min(failures):
                        return
                try:
                    counts[resource["path"]] = _verify_one(path, zf, resource, target)
                except InvalidInput as exc:
                    with lock:
                        failures[number] = exc
                    return

    def helper_work() -> None:
        try:
            work(rest)
        except BaseException as exc:  # handed to the main thread, raised there
            crashed.append(exc)

    crashed: list[BaseException] = []
    helper = threading.Thread(target=helper_work, name="wacz-verify")
    helper.start()
    try:
        work(warcs)
    finally:
        helper.join()
    if crashed:
        raise crashed[0]
    if failures:
        raise failures[min(failures)]  # the first problem in the datapackage's order
    extracted = [(resource["path"], target) for _, resource, target in jobs if target is not None]
    return extracted, counts


def _verify_one(
    path: Path, zf: zipfile.ZipFile, resource: dict[str, Any], target: Path | None
) -> int:
    """Check one listed file's hash and size, copying it to `target` on the way if given;
    returns the pages in it if it is a page list."""
    name: str = resource["path"]
    algorithm, _, expected = resource["hash"].partition(":")
    counter = _PageCounter() if name.startswith("pages/") else None
    actual, size = _hash(zf, zf.getinfo(name), algorithm, path, target, counter)
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
    return counter.pages if counter is not None else 0


def _hash(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    algorithm: str,
    path: Path,
    target: Path | None,
    counter: _PageCounter | None = None,
) -> tuple[str, int]:
    """Hash of an entry (hex) and its size, copying it to `target` on the way if given.

    The entry is read (and inflated) in a thread of its own while this one hashes,
    copies and counts: inflating a large page list and hashing it take about as long
    as each other, and both let go of the interpreter.
    """
    try:
        digest = hashlib.new(algorithm.lower())
    except ValueError:
        raise InvalidInput(
            f"{path.name}: {info.filename} has a hash of unknown type {algorithm!r}"
        ) from None
    size = 0
    out = open(target, "xb") if target is not None else None  # noqa: SIM115
    try:
        for chunk in _read_ahead(_entry_chunks(zf, info, path)):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
            if counter is not None:
                counter.feed(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise InvalidInput(f"{path.name}: {info.filename} cannot be read: {exc}") from None
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest(), size


def _entry_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> Iterator[bytes]:
    """The content of an entry, in chunks of at most `_CHUNK` bytes.

    Stored and deflated entries are read from the package directly, without the CRC-32
    that `zipfile` computes on the way: the hash in datapackage.json, checked by the
    caller, is the stronger check (every entry must have one). An entry never yields
    more than the size its header declares (the ZIP bomb checks trusted that size).
    """
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        with zf.open(info) as f:
            while chunk := f.read(_CHUNK):
                yield chunk
        return
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"no local header at offset {info.header_offset}")
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
        f.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
        left = info.compress_size
        if info.compress_type == zipfile.ZIP_STORED:
            while left > 0:
                chunk = f.read(min(_CHUNK, left))
                if not chunk:
                    raise EOFError(f"the package ends {left:,} bytes into {info.filename}")
                left -= len(chunk)
                yield chunk
            return
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        room = info.file_size  # bytes the entry may still give
        pending = b""  # input the inflater has not used yet
        while not inflater.eof:
            if not pending:
                if left <= 0:
                    raise EOFError(f"{info.filename} is cut short")
                pending = f.read(min(_CHUNK, left))
                if not pending:
                    raise EOFError(f"the package ends {left:,} bytes into {info.filename}")
                left -= len(pending)
            chunk = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            if len(chunk) > room:
                raise zipfile.BadZipFile("it inflates beyond the size its header declares")
            room -= len(chunk)
            if chunk:
                yield chunk


def _read_ahead(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks of `chunks`, produced in a thread of its own at most `_AHEAD` ahead."""
    ahead: queue.Queue[bytes | BaseException | None] = queue.Queue(_AHEAD)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                ahead.put(chunk)
            ahead.put(None)
        except BaseException as exc:  # handed to the consumer, raised there
            ahead.put(exc)

    producer = threading.Thread(target=produce, name="wacz-read", daemon=True)
    producer.start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while producer.is_alive():  # let it see `stop` if it waits on a full queue
            with contextlib.suppress(queue.Empty):
                ahead.get(timeout=0.05)
        producer.join()


class _PageCounter:
    """Counts the pages of a page list as it passes: lines that start a JSON object,
    but the header line (the first, if it names a `format`)."""

    def __init__(self) -> None:
        self.pages = 0
        self._first = b""  # the start of the first line, until it is complete
        self._first_done = False
        self._last = b"\n"  # the byte before the chunk to come

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.pages += self._last == b"\n" and chunk[:1] == b"{"
        # find() is a memchr, ten times as fast as count(b"\n{") on page lists, whose
        # lines (a page's text each) are long
        end = chunk.find(b"\n")
        while end >= 0:
            self.pages += chunk[end + 1 : end + 2] == b"{"
            end = chunk.find(b"\n", end + 1)
        self._last = chunk[-1:]
        if not self._first_done:
            end = chunk.find(b"\n")
            self._first += chunk if end < 0 else chunk[:end]
            if end >= 0 or len(self._first) > 4096:
                self._first_done = True
                if self._first.startswith(b"{") and b'"format"' in self._first:
                    self.pages -= 1


def _stem(path: Path) -> str:
    return path.name[: -len(".wacz")] if path.name.endswith(".wacz") else path.stem


def _free(directory: Path, name: str) -> str:
    candidate, n = name, 1
    while (directory / candidate).exists():
        n += 1
        candidate = f"{name[: -len('.jsonl')]}-{n}.jsonl"
    return candidate
