"""Times are stored in UTC on every backend.

PostgreSQL converts an aware time to UTC itself; SQLite stores the wall-clock digits
and drops the offset, so 12:00+01:00 would read back as 12:00 UTC. Before the ORM
writes a row, every aware time of it is converted to UTC here (registered on import).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect

from vellum.catalog.models import Base


@event.listens_for(Base, "before_insert", propagate=True)
@event.listens_for(Base, "before_update", propagate=True)
def _times_in_utc(_mapper: Any, _connection: Any, target: Any) -> None:
    state = inspect(target)
    for attr in state.mapper.column_attrs:
        value = state.dict.get(attr.key)
        if isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset():
            setattr(target, attr.key, value.astimezone(UTC))
