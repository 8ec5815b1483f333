"""What tells whether a collection's index changed: every file's name, size and mtime."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["Stamp", "index_stamp"]

Stamp = tuple[tuple[str, int, int], ...]


def index_stamp(directory: Path) -> Stamp:
    """Every file under `directory`: relative name, size, modification time (sorted)."""
    found: list[tuple[str, int, int]] = []
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:  # removed meanwhile (a merge)
                continue
            found.append((os.path.relpath(path, directory), st.st_size, st.st_mtime_ns))
    return tuple(sorted(found))
