"""Bringing a WARC file into a collection: its checksums, a safe copy, a free name."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from vellum.warc.sniff import Kind

__all__ = [
    "SUFFIXES",
    "Checksums",
    "checksums",
    "copy_with_checksums",
    "free_name",
    "recompress",
    "sync",
]

_CHUNK = 1 << 20
# The name endings a file of each kind must have in a collection (the index store and
# `index rebuild` look for them).
SUFFIXES = {
    Kind.WARC_GZ: ".warc.gz",
    Kind.WARC: ".warc",
    Kind.ARC_GZ: ".arc.gz",
    Kind.ARC: ".arc",
}

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Checksums:
    """What a WARC file's entry in the catalog (and WASAPI) gives: size, SHA-1 and MD5 (hex)."""

    size: int
    sha1: str
    md5: str


def checksums(path: Path, progress: Progress | None = None) -> Checksums:
    """Size, SHA-1 and MD5 of a file, read once."""
    return _pass(path, None, progress)


def copy_with_checksums(source: Path, target: Path, progress: Progress | None = None) -> Checksums:
    """Copy `source` to `target`, computing its checksums on the way.

    The copy is not yet flushed to disk: call `sync` on it before relying on it (the
    kernel writes it back meanwhile, so that call is then short).
    """
    return _pass(source, target, progress)


def sync(path: Path) -> None:
    """Flush a file to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pass(source: Path, target: Path | None, progress: Progress | None) -> Checksums:
    sha1, md5 = hashlib.sha1(), hashlib.md5()
    size = 0
    with open(source, "rb") as f:
        out = open(target, "xb") if target is not None else None  # noqa: SIM115
        try:
            while chunk := f.read(_CHUNK):
                sha1.update(chunk)
                md5.update(chunk)
                size += len(chunk)
                if out is not None:
                    out.write(chunk)
                if progress is not None:
                    progress(len(chunk))
        finally:
            if out is not None:
                out.close()
    return Checksums(size, sha1.hexdigest(), md5.hexdigest())


def recompress(source: Path, target: Path) -> None:
    """Write `source` (gzipped as one stream) to `target` gzipped record by record.

    What `warcio recompress` does (ARC records become WARC ones). Raises what warcio
    raises on what it cannot read.
    """
    from warcio.recompressor import Recompressor

    with open(source, "rb") as stream:
        Recompressor(str(source), str(target)).decompress_and_recompress(stream, str(target))


def free_name(name: str, kind: Kind, taken: Iterable[str]) -> str:
    """`name` with the ending its kind needs, made unique among `taken` (`x-2.warc.gz`)."""
    suffix = SUFFIXES.get(kind, "")
    if suffix and not name.endswith(suffix):
        name += suffix
    stem = name[: -len(suffix)] if suffix else name
    used = set(taken)
    candidate, n = name, 1
    while candidate in used or candidate.startswith("."):
        n += 1
        candidate = f"{stem.lstrip('.')}-{n}{suffix}"
    return candidate
