"""Answers worked out from a collection's index, kept for as long as the index is unchanged.

Which capture answers a URL at a time, and a memento's neighbours, depend only on the
index. The index directory changes whenever the index does (a run added, merged or
removed; a journal growing while a crawl writes), so its listing with sizes and
modification times is a generation stamp: an answer is reused only under the stamp it
was computed under. Reading the stamp is one directory scan, far cheaper than the index
seeks (and WARC reads, for revisits and redirects) it saves, and it is read at most
every `RECHECK` seconds: a capture indexed that long ago is always seen.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

__all__ = ["MISSING", "IndexMemo"]

T = TypeVar("T")
_MISSING = object()
MISSING = _MISSING
"""What `peek` gives for a key with no answer yet."""
RECHECK = 0.05  # seconds between two reads of the index directory's stamp


def _stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        with os.scandir(directory) as entries:
            found = []
            for e in entries:
                st = e.stat()
                found.append((e.name, st.st_size, st.st_mtime_ns))
    except FileNotFoundError:
        return ()
    return tuple(sorted(found))


class IndexMemo:
    """A bounded memo of answers, emptied whenever the index directory changes."""

    def __init__(self, index_dir: Path, size: int = 50_000) -> None:
        self._dir = index_dir
        self._size = size
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._checked = -RECHECK

    def refresh(self) -> None:
        """Read the index's stamp (at most every RECHECK s); forget all if it changed."""
        now = time.monotonic()
        if now - self._checked < RECHECK:
            return
        self._checked = now
        stamp = _stamp(self._dir)
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                self._items.clear()

    def peek(self, key: Hashable) -> object:
        """The answer known for `key`, or `MISSING` (never computes)."""
        with self._lock:
            return self._items.get(key, _MISSING)

    def get(
        self, key: Hashable, compute: Callable[[], T], keep: Callable[[T], bool] | None = None
    ) -> T:
        """The answer for `key` under the stamp last read, computed if not known yet.

        A computed answer is kept unless `keep` says otherwise (large answers, say).
        """
        with self._lock:
            found = self._items.get(key, _MISSING)
            if found is not _MISSING:
                self._items.move_to_end(key)
                return found  # type: ignore[return-value]
            stamp = self._stamp
        value = compute()
        if keep is not None and not keep(value):
            return value
        with self._lock:
            if stamp == self._stamp:
                self._items[key] = value
                if len(self._items) > self._size:
                    self._items.popitem(last=False)
        return value
