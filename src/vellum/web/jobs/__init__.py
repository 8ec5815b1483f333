"""The service's seed and crawl-job pages, for curators (see seed_pages and job_pages)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from vellum.catalog import Catalog
from vellum.clock import Clock, system_clock
from vellum.settings import Settings
from vellum.web.jobs.common import guarded
from vellum.web.jobs.job_pages import JobPages
from vellum.web.jobs.seed_pages import SeedPages


def routes(settings: Settings, catalog: Catalog, clock: Clock = system_clock) -> list[BaseRoute]:
    """The routes under /admin/collections/{slug}/seeds, .../jobs and /admin/jobs/{id}."""
    seeds = SeedPages(catalog, clock)
    jobs = JobPages(settings, catalog, clock)
    base = "/admin/collections/{slug}"
    return [
        Route(f"{base}/seeds", guarded(seeds.list), methods=["GET", "POST"]),
        Route(f"{base}/seeds/bulk", guarded(seeds.bulk), methods=["POST"]),
        Route(f"{base}/seeds/{{seed_id}}", guarded(seeds.edit), methods=["GET", "POST"]),
        Route(f"{base}/seeds/{{seed_id}}/remove", guarded(seeds.remove), methods=["POST"]),
        Route(f"{base}/seeds/{{seed_id}}/crawl", guarded(seeds.crawl), methods=["POST"]),
        Route(f"{base}/crawl", guarded(seeds.crawl), methods=["POST"]),
        Route(f"{base}/jobs", guarded(jobs.list), methods=["GET"]),
        Route("/admin/jobs/{job_id}", guarded(jobs.show), methods=["GET"]),
        Route("/admin/jobs/{job_id}/progress", guarded(jobs.progress), methods=["GET"]),
        Route("/admin/jobs/{job_id}/{action}", guarded(jobs.act), methods=["POST"]),
    ]


__all__ = ["routes"]
