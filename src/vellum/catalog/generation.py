"""The catalog's generation: a counter bumped by every transaction that writes.

Caches of catalog answers (replay/catalog_view.py) compare it to know whether what
they remember still holds. A SQLite file could be watched instead, but a PostgreSQL
database cannot: this counter works for both, and for writes from other processes,
since it is bumped inside the writing transaction itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from vellum.catalog.models import CatalogGenerationRow

_WROTE = "vellum.wrote"
_BUMPED = "vellum.bumped"


def track_writes(factory: sessionmaker[Session], committed: Callable[[], None]) -> None:
    """Make every session of `factory` bump the generation when it commits a write, and
    call `committed` once that write is committed (for caches in this process)."""

    def _after_commit(session: Session) -> None:
        if session.info.pop(_BUMPED, False):
            committed()
        _forget(session)

    event.listen(factory, "after_flush", _flushed)
    event.listen(factory, "do_orm_execute", _executed)
    event.listen(factory, "before_commit", _bump)
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_rollback", _forget)


def read_generation(conn: Connection | Session) -> int:
    """The current generation (0 in a catalog that has never been written)."""
    value = conn.execute(
        select(CatalogGenerationRow.value).where(CatalogGenerationRow.id == 1)
    ).scalar()
    return int(value or 0)


def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _bump(session: Session) -> None:
    session.flush()
    if session.info.pop(_WROTE, False):
        session.execute(
            update(CatalogGenerationRow)
            .where(CatalogGenerationRow.id == 1)
            .values(value=CatalogGenerationRow.value + 1)
        )
        session.info.pop(_WROTE, None)
        session.info[_BUMPED] = True


def _forget(session: Session) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(_BUMPED, None)


__all__ = ["read_generation", "track_writes"]
