"""Test crawls: written into quarantine, reviewed, then saved into the collection or discarded.

A test job's crawl runs with its own data directory, `<data>/quarantine/<job id>/`: its
WARC files and index live there, the collection's catalog rows do not name them, so
nothing of it is replayed, searched or exported. Saving imports its WARC files into the
collection (indexed, search-indexed, tied to the crawl); discarding deletes them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from vellum.catalog import Catalog
from vellum.catalog.models import CrawlRow
from vellum.errors import VellumError
from vellum.index.cdxj import Capture
from vellum.index.store import open_index
from vellum.jobs.queue import Job, JobQueue
from vellum.settings import Settings

PAGES_SHOWN = 500


@dataclass(frozen=True)
class SaveResult:
    job: Job
    files: list[str]
    search_note: str  # "" or why the search index was not updated


def quarantine_dir(settings: Settings, job_id: int) -> Path:
    """Where test job `job_id` keeps what it captured."""
    return settings.data_dir / "quarantine" / str(job_id)


def quarantine_settings(settings: Settings, job_id: int) -> Settings:
    """Settings whose collection directories are the job's quarantine."""
    return replace(settings, data_dir=quarantine_dir(settings, job_id))


def quarantined_files(settings: Settings, job: Job) -> list[Path]:
    """The finished WARC files of a test job, by name."""
    warcs = quarantine_settings(settings, job.id).warc_dir(job.collection_slug)
    if not warcs.is_dir():
        return []
    return sorted(p for p in warcs.iterdir() if p.is_file() and p.name.endswith(".warc.gz"))


def quarantined_captures(settings: Settings, job: Job, limit: int = PAGES_SHOWN) -> list[Capture]:
    """What a test job captured (for the curator's review), from its own index."""
    q = quarantine_settings(settings, job.id)
    index_dir = q.index_dir(job.collection_slug)
    if not index_dir.is_dir():
        return []
    store = open_index(index_dir, q.warc_dir(job.collection_slug))
    try:
        out: list[Capture] = []
        for capture in store.all():
            out.append(capture)
            if len(out) >= limit:
                break
        return out
    finally:
        store.close()


def save_test_crawl(settings: Settings, catalog: Catalog, job_id: int) -> SaveResult:
    """Import a reviewed test crawl's WARC files into its collection; then drop quarantine."""
    from vellum.index.importer import Importer
    from vellum.search.feed import update_search_index

    queue = JobQueue(catalog)
    job = _reviewable(queue, job_id, "save")
    files = quarantined_files(settings, job)
    if not files:
        raise VellumError(f"test job {job_id} captured nothing to save (discard it instead)")
    report = Importer(settings, catalog, workers=1).run(job.collection_slug, files)
    if report.failed:
        raise VellumError(f"test job {job_id} could not be saved: {'; '.join(report.problems[:3])}")
    names = [f.filename for f in report.imported]
    queue.link_warc_files(job_id, names)
    with catalog.transaction() as s:
        crawl = s.get(CrawlRow, job.crawl_id)
        if crawl is not None:
            crawl.test = False  # its WARC files are in the collection now
    note = ""
    try:
        update_search_index(settings, catalog, job.collection_slug, workers=1)
    except VellumError as exc:
        note = f"search index not updated ({exc}); run 'vellum search reindex'"
    shutil.rmtree(quarantine_dir(settings, job_id), ignore_errors=True)
    return SaveResult(queue.mark(job_id, "saved", note), names, note)


def discard_test_crawl(settings: Settings, catalog: Catalog, job_id: int) -> Job:
    """Delete what a test crawl captured (its crawl's report stays in the catalog)."""
    queue = JobQueue(catalog)
    _reviewable(queue, job_id, "discard", allow_failed=True)
    shutil.rmtree(quarantine_dir(settings, job_id), ignore_errors=True)
    return queue.mark(job_id, "discarded")


def _reviewable(queue: JobQueue, job_id: int, verb: str, allow_failed: bool = False) -> Job:
    job = queue.get(job_id)
    if not job.test:
        raise VellumError(f"job {job_id} is not a test crawl: there is nothing to {verb}")
    ended = ("finished", "stopped") + (("failed", "interrupted", "paused") if allow_failed else ())
    if job.state not in ended:
        raise VellumError(f"test job {job_id} is {job.state}: it cannot be {verb}d now")
    return job
