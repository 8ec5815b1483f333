"""The catalog as the web app reads it: collection lookups answered from memory.

Every request looks its collection up, often more than once (the access gate, the
origin split, the route itself), and an SQLAlchemy query costs more than serving a
cached page. `CatalogView` keeps the answers of `get_collection` for as long as the
catalog's database file is unchanged: any commit, from this process or another (a
`vellum collection set --private` run meanwhile), changes the file's size or
modification time and empties the memo. File times can be coarse (a few
milliseconds), so while the file was modified less than `_SETTLE_NS` ago nothing is
remembered: a commit landing in the same clock tick as a lookup cannot go unseen.
The file is looked at once per `RECHECK` seconds at most.

Everything else is passed to the real catalog.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, cast

from vellum.catalog import Catalog, Collection
from vellum.errors import NotFound

__all__ = ["CatalogView", "catalog_view"]

_SETTLE_NS = 2_000_000_000
RECHECK = 0.02  # seconds a look at the file's size and time is reused


class CatalogView:
    """A `Catalog` whose collection lookups are remembered while its file is unchanged."""

    def __init__(self, catalog: Catalog, path: Path) -> None:
        self._catalog = catalog
        self._path = path
        self._stamp: tuple[int, int, int] | None = None
        self._known: dict[str, Collection | None] = {}
        self._lock = threading.Lock()
        self._looked: tuple[float, tuple[int, int, int] | None] = (-RECHECK, None)

    def get_collection(self, slug: str) -> Collection:
        stamp = self._file_stamp()
        settled = stamp is not None and time.time_ns() - stamp[1] > _SETTLE_NS
        with self._lock:
            if stamp != self._stamp:
                self._known.clear()
                self._stamp = stamp
            if settled and slug in self._known:
                found = self._known[slug]
                if found is None:
                    raise NotFound(f"no collection {slug!r} (see 'vellum collection list')")
                return found
        try:
            collection = self._catalog.get_collection(slug)
        except NotFound:
            self._remember(stamp, slug, None, settled)
            raise
        self._remember(stamp, slug, collection, settled)
        return collection

    def _remember(
        self,
        stamp: tuple[int, int, int] | None,
        slug: str,
        value: Collection | None,
        settled: bool,
    ) -> None:
        with self._lock:
            if settled and stamp == self._stamp:
                self._known[slug] = value

    def _file_stamp(self) -> tuple[int, int, int] | None:
        now = time.monotonic()
        when, stamp = self._looked
        if now - when < RECHECK:
            return stamp
        try:
            st = os.stat(self._path)
            stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        except OSError:
            stamp = None
        self._looked = (now, stamp)
        return stamp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._catalog, name)


def catalog_view(catalog: Catalog, path: Path) -> Catalog:
    """`catalog` with remembered collection lookups, typed as the catalog it stands for."""
    if isinstance(catalog, CatalogView):
        return cast(Catalog, catalog)
    return cast(Catalog, CatalogView(catalog, path))
