"""Alembic environment: runs on the connection vellum.catalog.database hands over."""

from __future__ import annotations

from alembic import context

from vellum.catalog.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the catalog migrations through 'vellum db upgrade'")

context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
