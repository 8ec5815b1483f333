"""A small thread-safe LRU cache bounded by the bytes it holds.

Replay caches what a capture becomes once rewritten: WARC records never change, so an
entry keyed by the record's place (file, offset) and everything else the output depends
on (modifier, inserts) is never stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["ByteLRU"]

V = TypeVar("V")


class ByteLRU(Generic[V]):
    """Keeps the most recently used values whose sizes add up to at most `budget` bytes."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._used = 0
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: V, size: int) -> None:
        """Store `value` (of `size` bytes); values larger than a quarter of the budget are not."""
        if size > self._budget // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._used -= old[1]
            self._items[key] = (value, size)
            self._used += size
            while self._used > self._budget and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self._used -= dropped

    def __len__(self) -> int:
        return len(self._items)
