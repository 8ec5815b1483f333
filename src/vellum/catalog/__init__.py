"""Catalog part: organizations, collections, crawls (SQLAlchemy; SQLite by default)."""

from vellum.catalog.catalog import Catalog, Collection, Crawl, Organization

__all__ = ["Catalog", "Collection", "Crawl", "Organization"]
