"""Crawl configurations and reports in the catalog (table `crawl_state`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from vellum.catalog.catalog import Catalog, Crawl
from vellum.catalog.models import CollectionRow, CrawlRow, CrawlStateRow
from vellum.errors import NotFound

UNFINISHED = ("running", "interrupted")


def save_config(catalog: Catalog, crawl_id: int, config: dict[str, Any]) -> None:
    """Store the configuration a crawl was started with."""
    with catalog.transaction() as s:
        row = s.get(CrawlStateRow, crawl_id)
        if row is None:
            s.add(
                CrawlStateRow(
                    crawl_id=crawl_id,
                    config=json.dumps(config),
                    report="{}",
                    updated=datetime.now(UTC),
                )
            )
        else:
            row.config = json.dumps(config)


def load_config(catalog: Catalog, crawl_id: int) -> dict[str, Any]:
    """The configuration of crawl `crawl_id` (NotFound if it has none)."""
    with catalog.transaction() as s:
        row = s.get(CrawlStateRow, crawl_id)
        if row is None:
            raise NotFound(f"crawl {crawl_id} has no stored configuration, so it cannot resume")
        value: dict[str, Any] = json.loads(row.config)
        return value


def save_report(catalog: Catalog, crawl_id: int, report: dict[str, Any]) -> None:
    """Store (replace) the report of crawl `crawl_id`."""
    with catalog.transaction() as s:
        row = s.get(CrawlStateRow, crawl_id)
        if row is None:
            row = CrawlStateRow(crawl_id=crawl_id, config="{}", updated=datetime.now(UTC))
            s.add(row)
        row.report = json.dumps(report)
        row.updated = datetime.now(UTC)


def load_report(catalog: Catalog, crawl_id: int) -> dict[str, Any]:
    """The stored report of crawl `crawl_id` (NotFound if there is no such crawl)."""
    with catalog.transaction() as s:
        if s.get(CrawlRow, crawl_id) is None:
            raise NotFound(f"no crawl {crawl_id} (see 'vellum crawl list')")
        row = s.get(CrawlStateRow, crawl_id)
        value: dict[str, Any] = json.loads(row.report) if row is not None else {}
        return value


def unfinished_crawl(catalog: Catalog, slug: str) -> Crawl | None:
    """The latest crawl of collection `slug` that is running or was interrupted."""
    candidates = [c for c in catalog.crawls(slug) if c.status in UNFINISHED]
    return max(candidates, key=lambda c: c.id) if candidates else None


def set_status(catalog: Catalog, crawl_id: int, status: str) -> None:
    """Mark a crawl running again (on resume) or otherwise change its status only."""
    with catalog.transaction() as s:
        row = s.get(CrawlRow, crawl_id)
        if row is None:
            raise NotFound(f"no crawl {crawl_id}")
        row.status = status
        row.finished = None


def crawl_slug(catalog: Catalog, crawl_id: int) -> str:
    """The collection slug of crawl `crawl_id`."""
    with catalog.transaction() as s:
        slug = s.scalar(
            select(CollectionRow.slug)
            .join(CrawlRow, CrawlRow.collection_id == CollectionRow.id)
            .where(CrawlRow.id == crawl_id)
        )
        if slug is None:
            raise NotFound(f"no crawl {crawl_id} (see 'vellum crawl list')")
        return str(slug)
