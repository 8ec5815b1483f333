"""Rewritten answers on disk, shared by every worker process and kept across restarts.

Each process keeps the answers it rewrote in memory (`content.BodyCache`); with several
workers a page rewritten by one is still cold in the others. This second tier stores
each rewritten answer once in `<data>/cache/replay/<code>/`, where every process finds
it (the kernel's page cache makes a hit a few microseconds of copying).

Entries are named by a hash of what the answer depends on (WARC record, modifier,
scheme, inserts), under a directory named by a hash of the replay code itself: records
never change, and a new version of the rewriting code starts a fresh directory (the
old ones are removed when an app starts). Files are written whole and renamed into
place, so a reader never sees half an entry. The tier holds at most one rewritten copy
of each archived HTML or CSS record per modifier, so it is bounded by the archive.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from vellum import __version__

__all__ = ["DiskTier", "code_stamp"]

_MAGIC = b"VELLUM-REPLAY-1\n"


def code_stamp() -> str:
    """A short hash of Vellum's version and the replay code's files (size and time)."""
    digest = hashlib.sha1(__version__.encode())
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        with contextlib.suppress(OSError):
            st = path.stat()
            digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


class DiskTier:
    """Entries of (metadata, bytes) in one directory, by key."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._ready = False

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> DiskTier:
        """The tier of this code version under `data_dir`; other versions' tiers removed."""
        parent = data_dir / "cache" / "replay"
        stamp = code_stamp()
        if parent.is_dir():
            for old in parent.iterdir():
                if old.name != stamp and not old.name.startswith("."):
                    shutil.rmtree(old, ignore_errors=True)
        return cls(parent / stamp)

    def _path(self, key: object) -> Path:
        name = hashlib.sha1(repr(key).encode("utf-8", "surrogateescape")).hexdigest()
        return self._dir / name[:2] / name[2:]

    def get(self, key: object) -> tuple[dict[str, object], bytes] | None:
        """The entry stored for `key`, or None (also for a damaged entry)."""
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        if not data.startswith(_MAGIC):
            return None
        head_end = data.find(b"\n", len(_MAGIC))
        if head_end < 0:
            return None
        try:
            meta = json.loads(data[len(_MAGIC) : head_end])
        except ValueError:
            return None
        if not isinstance(meta, dict) or meta.get("key") != repr(key):
            return None  # a hash collision, however unlikely, is a miss
        return meta, data[head_end + 1 :]

    def put(self, key: object, meta: dict[str, object], content: bytes) -> None:
        """Store an entry; failures (a full disk, a read-only data directory) are ignored."""
        path = self._path(key)
        head = json.dumps({**meta, "key": repr(key)}, separators=(",", ":")).encode()
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "wb") as f:
                f.write(_MAGIC + head + b"\n")
                f.write(content)
            os.replace(temp, path)
        except OSError:
            with contextlib.suppress(OSError):
                temp.unlink()
