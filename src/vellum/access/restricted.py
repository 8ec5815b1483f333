"""An index store that shows only what an access view allows (exclusions, embargo).

Routes that read a collection's index for a principal wrap the store with
`restricted(store, view)`; every capture they list, count or resolve then passes
`View.allows` first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from vellum.access.exclusions import View
from vellum.index.cdxj import Capture
from vellum.index.query import CdxQuery
from vellum.index.store import IndexStore

__all__ = ["RestrictedStore", "restricted"]


class RestrictedStore:
    """A read view of `store` through `view()` (asked again at each read)."""

    def __init__(self, store: IndexStore, view: Callable[[], View]) -> None:
        self._store = store
        self._view = view

    def query(self, q: CdxQuery) -> Iterator[Capture]:
        return self._view().filter(self._store.query(q))

    def captures(self, url: str) -> list[Capture]:
        return list(self._view().filter(self._store.captures(url)))

    def all(self) -> Iterator[Capture]:
        return self._view().filter(self._store.all())

    def append(self, warc_filename: str, captures: Iterable[Capture]) -> None:
        raise PermissionError("a restricted index is read only")

    def seal(self, warc_filename: str) -> None:
        raise PermissionError("a restricted index is read only")

    def recover(self) -> list[str]:
        raise PermissionError("a restricted index is read only")

    def remove(self, warc_filename: str) -> None:
        raise PermissionError("a restricted index is read only")

    def close(self) -> None:
        """Nothing: the store underneath belongs to its opener."""


def restricted(store: IndexStore, view: View) -> IndexStore:
    """`store` as `view` lets it be seen (the store itself if nothing is restricted)."""
    if view.unrestricted:
        return store
    return RestrictedStore(store, lambda: view)
