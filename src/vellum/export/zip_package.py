"""A ZIP written as a stream, recording the size and SHA-256 of every entry written.

Entries that may pass 2 GB get ZIP64 headers from the start (their size is known or
bounded before writing); the central directory switches to ZIP64 by itself when the
package passes 4 GB or 65,535 entries.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

__all__ = ["HashingWriter", "Resource", "ZipPackage"]

_CHUNK = 1 << 20
ZIP64_GUARD = (1 << 31) - 1
"""Entries that may reach this size are written with ZIP64 headers."""


@dataclass(frozen=True)
class Resource:
    """A file of the package: its path in it, SHA-256 (hex) and size."""

    path: str
    sha256: str
    size: int


class ZipPackage:
    """A ZIP being written, with the size and SHA-256 of every entry written so far."""

    def __init__(self, path: Path, when: datetime) -> None:
        self._zip = zipfile.ZipFile(path, "w", allowZip64=True)
        self._date = (when.year, when.month, when.day, when.hour, when.minute, when.second)
        self.resources: list[Resource] = []

    def open(self, name: str, size_hint: int, deflate: bool) -> IO[bytes]:
        """A new entry to write; `size_hint` is its size or an upper bound of it."""
        info = zipfile.ZipInfo(name, date_time=self._date)
        info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        info.file_size = size_hint
        info.external_attr = 0o644 << 16
        info._compresslevel = 1  # type: ignore[attr-defined]  # open() ignores the ZipFile's
        return self._zip.open(info, "w", force_zip64=size_hint >= ZIP64_GUARD)

    def add_file(self, name: str, source: Path, deflate: bool = False) -> Resource:
        """Copy a file into the package, hashing it on the way."""
        digest = hashlib.sha256()
        size = 0
        with open(source, "rb") as f, self.open(name, source.stat().st_size, deflate) as out:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        return self._listed(name, digest.hexdigest(), size)

    def add_bytes(self, name: str, data: bytes, listed: bool = True) -> str:
        """Add a small file; returns its SHA-256 (hex)."""
        with self.open(name, len(data), deflate=True) as out:
            out.write(data)
        sha = hashlib.sha256(data).hexdigest()
        if listed:
            self._listed(name, sha, len(data))
        return sha

    def _listed(self, name: str, sha256: str, size: int) -> Resource:
        resource = Resource(name, sha256, size)
        self.resources.append(resource)
        return resource

    def close(self) -> None:
        self._zip.close()


class HashingWriter:
    """Writes to a ZIP entry, counting and hashing what passes."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._out.write(data)
        self.digest.update(data)
        self.size += len(data)
