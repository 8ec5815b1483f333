"""Alembic migrations of the catalog schema, run from vellum.catalog.database (no alembic.ini)."""
