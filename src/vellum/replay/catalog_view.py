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

A PostgreSQL catalog has no file to look at: there the stamp is the catalog's
generation (catalog/generation.py), a counter every writing transaction bumps, read
once per `RECHECK` seconds at most. It changes in the same transaction as the write,
so it is exact: no settling time is needed. Writes through the same Catalog object
(this process) count at once: the stamp also holds `Catalog.local_writes`.

Everything else is passed to the real catalog.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, cast

from sqlalchemy.exc import SQLAlchemyError

from vellum.catalog import Catalog, Collection
from vellum.errors import NotFound

__all__ = ["CatalogView", "catalog_view"]

_SETTLE_NS = 2_000_000_000
RECHECK = 0.02  # seconds a look at the file's size and time is reused


class CatalogView:
    """A `Catalog` whose collection lookups are remembered while its file is unchanged."""

    def __init__(self, catalog: Catalog, path: Path | None = None) -> None:
        self._catalog = catalog
        # The SQLite file to watch; None: a PostgreSQL catalog, watched by its generation.
        self._path = _sqlite_file(catalog) if path is None else path
        self._stamp: tuple[int, int, int] | None = None
        self._known: dict[str, Collection | None] = {}
        self._lock = threading.Lock()
        self._looked: tuple[float, tuple[int, int, int] | None] = (-RECHECK, None)

    def get_collection(self, slug: str) -> Collection:
        stamp = self._file_stamp()
        if self._path is None:
            settled = stamp is not None
        else:
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
            if self._path is None and stamp is not None:
                # A write through this very catalog is seen at once, not RECHECK later.
                return (stamp[0], self._catalog.local_writes, 0)
            return stamp
        if self._path is None:
            try:
                stamp = (self._catalog.generation(), self._catalog.local_writes, 0)
            except SQLAlchemyError:
                stamp = None  # the database is unreachable: remember nothing
        else:
            try:
                st = os.stat(self._path)
                stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
            except OSError:
                stamp = None
        self._looked = (now, stamp)
        return stamp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._catalog, name)


def catalog_view(catalog: Catalog, path: Path | None = None) -> Catalog:
    """`catalog` with remembered collection lookups, typed as the catalog it stands for.

    `path` is ignored for a PostgreSQL catalog; for SQLite it defaults to the catalog's file.
    """
    if isinstance(catalog, CatalogView):
        return cast(Catalog, catalog)
    return cast(Catalog, CatalogView(catalog, path if catalog.is_sqlite else None))


def _sqlite_file(catalog: Catalog) -> Path | None:
    database = catalog.url.database if catalog.is_sqlite else None
    return Path(database) if database else None
