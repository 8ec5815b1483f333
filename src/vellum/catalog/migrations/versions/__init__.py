"""Revisions of the catalog schema, oldest first: 0001 (before migrations), 0002, ..."""
