"""The worker process of one crawl job: `vellum worker --job ID` (started by the scheduler).

It runs the crawl (or resumes the job's crawl), writes a heartbeat and the progress
(pages, bytes, queue, rate, errors) into the job every second, and notices there when a
curator asks it to pause or stop: it then interrupts its own crawl with SIGINT, which the
crawler ends cleanly (everything written is complete and indexed, the crawl resumable).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from types import FrameType
from typing import Any

from sqlalchemy import select

from vellum.capture.config import CrawlConfig, Limits
from vellum.capture.crawler import Crawler, CrawlEvent, CrawlInterrupted, crawl_dir
from vellum.capture.frontier import SqliteFrontier
from vellum.capture.scope import Seed
from vellum.catalog import Catalog
from vellum.catalog.models import CrawlRow, SeedRow
from vellum.catalog.seeds import SeedRules, check_seed_url
from vellum.errors import VellumError
from vellum.jobs.quarantine import quarantine_settings
from vellum.jobs.queue import Job, JobQueue
from vellum.settings import Settings

BEAT_SECONDS = 1.0


class Progress:
    """Counts what the crawl engine reports, for the heartbeat."""

    def __init__(self, earlier: dict[str, Any] | None = None) -> None:
        earlier = earlier or {}  # a resumed job goes on counting from where it was
        self._lock = threading.Lock()
        self._started = time.monotonic() - float(earlier.get("elapsed", 0.0))
        self.pages = int(earlier.get("pages", 0))
        self.bytes = int(earlier.get("bytes", 0))
        self.errors = int(earlier.get("errors", 0))
        self.queued = 0
        self.last_url = ""

    def observe(self, event: CrawlEvent) -> None:
        with self._lock:
            if event.status is not None:
                self.pages += 1
                self.bytes += event.size
            elif event.message != "blocked by robots.txt":
                self.errors += 1
            self.queued = event.queued
            self.last_url = event.url

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            elapsed = time.monotonic() - self._started
            return {
                "pages": self.pages,
                "bytes": self.bytes,
                "errors": self.errors,
                "queued": self.queued,
                "rate": round(self.pages / elapsed, 2) if elapsed > 0 else 0.0,
                "elapsed": round(elapsed, 1),
                "last_url": self.last_url[:300],
            }


class _Heartbeat(threading.Thread):
    """Every second: progress into the job; a pause or stop request interrupts the crawl."""

    def __init__(self, queue: JobQueue, job_id: int, progress: Progress) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self._queue = queue
        self._job_id = job_id
        self._progress = progress
        self._done = threading.Event()
        self.crawling = threading.Event()  # the crawl engine runs: SIGINT ends it cleanly
        self.asked: str | None = None  # "pausing" or "stopping", once seen

    def run(self) -> None:
        while not self._done.is_set():
            self.beat()
            self._done.wait(BEAT_SECONDS)

    def beat(self) -> None:
        try:
            state = self._queue.beat(self._job_id, self._progress.snapshot())
        except VellumError:
            return
        if state in ("pausing", "stopping") and self.asked is None and self.crawling.is_set():
            self.asked = state
            os.kill(os.getpid(), signal.SIGINT)

    def stop(self) -> None:
        self._done.set()
        self.join(5)
        self.beat()


def run_job(settings: Settings, catalog: Catalog, job_id: int) -> Job:
    """Run crawl job `job_id` (claimed by the scheduler: state running) to its end."""
    queue = JobQueue(catalog)
    job = queue.get(job_id)
    if job.state != "running":
        raise VellumError(f"job {job_id} is {job.state}, not running: nothing to do")
    queue.set_worker(job_id, os.getpid())
    signal.signal(signal.SIGTERM, _interrupt)  # `kill PID` ends the crawl cleanly too
    progress = Progress(job.progress if job.crawl_id is not None else None)
    beat = _Heartbeat(queue, job_id, progress)
    beat.start()
    slug = job.collection_slug
    test = job.test
    crawler = Crawler(
        quarantine_settings(settings, job_id) if test else settings,
        catalog,
        observer=progress.observe,
        on_crawl=lambda crawl: queue.set_crawl(job_id, crawl.id),
        catalog_files=not test,
    )
    state, error, files = "failed", "", []
    try:
        beat.crawling.set()
        try:
            if job.crawl_id is not None:
                report = crawler.resume(slug, job.crawl_id)
            else:
                report = crawler.start(slug, job_config(catalog, job))
        finally:
            beat.crawling.clear()
        state, files = "finished", report.warc_files
    except CrawlInterrupted:
        state = {"pausing": "paused", "stopping": "stopped"}.get(beat.asked or "", "interrupted")
        if state == "interrupted":
            error = "the worker was stopped (resume continues the crawl)"
        files = _crawl_files(settings, queue.get(job_id), test)
    except VellumError as exc:
        error = str(exc)
        files = _crawl_files(settings, queue.get(job_id), test)
    except Exception as exc:  # a crash must still end the job, with the reason
        error = f"the worker crashed: {type(exc).__name__}: {exc}"
    finally:
        beat.stop()
    done = queue.get(job_id)
    if state == "stopped" and done.crawl_id is not None:
        _end_crawl(catalog, done.crawl_id)
    if not test and files:
        queue.link_warc_files(job_id, files)
        error = error or _update_search(settings, catalog, slug)
    return queue.finish(job_id, state, error)


def job_config(catalog: Catalog, job: Job) -> CrawlConfig:
    """The crawl configuration of a job's seeds: their scopes, rules and limits merged."""
    with catalog.transaction() as s:
        rows = list(s.scalars(select(SeedRow).where(SeedRow.id.in_(job.seed_ids))))
        seeds = [(r.url, r.scope, SeedRules.from_json(json.loads(r.rules or "{}"))) for r in rows]
    if not seeds:
        raise VellumError("the job's seeds were removed: nothing to crawl")
    rules = [r for _, _, r in seeds]

    def union(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for r in rules for v in getattr(r, name)))

    def most(name: str) -> Any:
        values = [r.limits.get(name) for r in rules]
        return None if any(v is None for v in values) else max(v for v in values if v)

    seconds = most("seconds")
    return CrawlConfig(
        seeds=tuple(Seed(check_seed_url(url), scope) for url, scope, _ in seeds),
        include=union("include"),
        exclude=union("exclude"),
        include_re=union("include_re"),
        exclude_re=union("exclude_re"),
        max_hops=max(r.max_hops for r in rules),
        limits=Limits(
            documents=_int(most("documents")),
            bytes=_int(most("bytes")),
            seconds=float(seconds) if seconds is not None else None,
        ),
    )


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _crawl_files(settings: Settings, job: Job, test: bool) -> list[str]:
    """The WARC files the job's crawl wrote so far, as its frontier lists them."""
    if job.crawl_id is None or test:
        return []
    here = crawl_dir(settings, job.collection_slug, job.crawl_id) / "frontier.sqlite"
    if not here.exists():
        return []
    frontier = SqliteFrontier(here)
    try:
        return [str(name) for name in frontier.get_meta("files") or []]
    finally:
        frontier.close()


def _end_crawl(catalog: Catalog, crawl_id: int) -> None:
    """A stopped job's crawl is over: not 'interrupted' (which `crawl --resume` would take)."""
    with catalog.transaction() as s:
        row = s.get(CrawlRow, crawl_id)
        if row is not None and row.status == "interrupted":
            row.status = "finished"


def _update_search(settings: Settings, catalog: Catalog, slug: str) -> str:
    from vellum.search.feed import update_search_index

    try:
        update_search_index(settings, catalog, slug, workers=1)
    except VellumError as exc:
        return f"search index not updated ({exc}); run 'vellum search reindex {slug}'"
    return ""


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    with contextlib.suppress(ValueError):
        signal.raise_signal(signal.SIGINT)


__all__ = ["Progress", "job_config", "run_job"]
