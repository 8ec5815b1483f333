"""Crawl jobs in the catalog: enqueue, claim, heartbeat, finish, and the curator's requests.

A job's life: queued -> running -> finished | failed; a curator may ask a running job to
pause (pausing -> paused, resumable) or stop (stopping -> stopped, what was written is
kept); a worker that dies leaves it interrupted (resumable). A test job, once ended, is
saved (its WARC files move into the collection) or discarded (deleted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from vellum.catalog.catalog import Catalog
from vellum.catalog.models import (
    CollectionRow,
    CrawlJobRow,
    CrawlJobSeedRow,
    CrawlRow,
    SeedRow,
    WarcFileRow,
)
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, NotFound, VellumError
from vellum.jobs.frequency import utc

ACTIVE = ("queued", "running", "pausing", "stopping")  # a seed in one is not started again
WORKING = ("running", "pausing", "stopping")  # a worker process is (or should be) alive
RESUMABLE = ("paused", "interrupted", "failed")
ENDED = ("finished", "stopped", "failed", "interrupted", "paused")
TRIGGERS = ("now", "schedule")


@dataclass(frozen=True)
class Job:
    """A crawl job as the catalog holds it."""

    id: int
    collection_slug: str
    state: str
    trigger: str
    test: bool
    requested_by: str
    requested: datetime
    started: datetime | None
    finished: datetime | None
    crawl_id: int | None
    worker_pid: int | None
    heartbeat: datetime | None
    progress: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    seed_ids: tuple[int, ...] = ()

    @property
    def working(self) -> bool:
        return self.state in WORKING

    @property
    def can_resume(self) -> bool:
        return self.state in RESUMABLE and (self.crawl_id is not None or self.state == "paused")

    @property
    def reviewable(self) -> bool:
        """A test crawl that has ended and still waits to be saved or discarded."""
        return self.test and self.crawl_id is not None and self.state in ("finished", "stopped")


class JobQueue:
    """Crawl jobs: what the web pages, the CLI, the scheduler and the workers change."""

    def __init__(self, catalog: Catalog, clock: Clock = system_clock) -> None:
        self._catalog = catalog
        self._clock = clock

    def enqueue(
        self,
        slug: str,
        seed_ids: list[int] | None = None,
        *,
        trigger: str = "now",
        test: bool = False,
        requested_by: str = "",
    ) -> Job:
        """A new queued job for some seeds of `slug` (default: all its active seeds).

        Refused if one of the seeds is already in a queued or running job."""
        collection = self._catalog.get_collection(slug)
        with self._catalog.transaction() as s:
            query = select(SeedRow).where(SeedRow.collection_id == collection.id)
            if seed_ids is None:
                query = query.where(SeedRow.active.is_(True))
            else:
                query = query.where(SeedRow.id.in_(seed_ids))
            seeds = list(s.scalars(query.order_by(SeedRow.id)))
            if seed_ids is not None and len(seeds) != len(set(seed_ids)):
                missing = set(seed_ids) - {r.id for r in seeds}
                raise NotFound(f"collection {slug!r} has no seed {min(missing)}")
            if not seeds:
                raise InvalidInput(f"collection {slug!r} has no active seeds to crawl")
            busy = _busy_seeds(s, [r.id for r in seeds])
            if busy:
                seed_id, job_id = next(iter(sorted(busy.items())))
                raise VellumError(f"seed {seed_id} is already being crawled by job {job_id}")
            row = _new_job(collection.id, trigger, test, requested_by, self._clock())
            row.seeds = [CrawlJobSeedRow(seed_id=r.id) for r in seeds]
            s.add(row)
            s.flush()
            return _job(row, slug)

    def get(self, job_id: int) -> Job:
        with self._catalog.transaction() as s:
            row = s.get(CrawlJobRow, job_id)
            if row is None:
                raise NotFound(f"no crawl job {job_id} (see 'vellum crawl-job list SLUG')")
            return _job(row, row.collection.slug)

    def jobs(self, slug: str | None = None, states: tuple[str, ...] = ()) -> list[Job]:
        """Jobs, newest first: of collection `slug` if given, in `states` if given."""
        with self._catalog.transaction() as s:
            query = select(CrawlJobRow).join(CollectionRow).order_by(CrawlJobRow.id.desc())
            if slug is not None:
                query = query.where(CollectionRow.slug == slug)
            if states:
                query = query.where(CrawlJobRow.state.in_(states))
            return [_job(r, r.collection.slug) for r in s.scalars(query)]

    # the scheduler and the workers

    def claim(self, job_id: int) -> bool:
        """Queued -> running (True), for the scheduler about to start its worker."""
        with self._catalog.transaction() as s:
            done = s.execute(
                update(CrawlJobRow)
                .where(CrawlJobRow.id == job_id, CrawlJobRow.state == "queued")
                .values(state="running", started=self._clock(), heartbeat=None, error="")
            )
            return bool(getattr(done, "rowcount", 0))

    def set_worker(self, job_id: int, pid: int) -> None:
        with self._catalog.transaction() as s:
            row = _row(s, job_id)
            row.worker_pid = pid

    def set_crawl(self, job_id: int, crawl_id: int) -> None:
        """Record the crawl a job's worker started (and mark it a test crawl if it is one)."""
        with self._catalog.transaction() as s:
            row = _row(s, job_id)
            row.crawl_id = crawl_id
            crawl = s.get(CrawlRow, crawl_id)
            if crawl is not None and row.test:
                crawl.test = True

    def beat(self, job_id: int, progress: dict[str, Any]) -> str:
        """A worker's heartbeat with its progress; returns the job's state (pausing?)."""
        with self._catalog.transaction() as s:
            row = _row(s, job_id)
            row.heartbeat = self._clock()
            row.progress = json.dumps(progress)
            return row.state

    def finish(self, job_id: int, state: str, error: str = "") -> Job:
        """A job's end: its state, when, why (for failures); seeds learn their last crawl."""
        with self._catalog.transaction() as s:
            row = _row(s, job_id)
            row.state = state
            row.finished = self._clock()
            row.error = error
            if row.crawl_id is not None and state in ("finished", "stopped"):
                ids = [link.seed_id for link in row.seeds]
                s.execute(
                    update(SeedRow).where(SeedRow.id.in_(ids)).values(last_crawl_id=row.crawl_id)
                )
            return _job(row, row.collection.slug)

    def link_warc_files(self, job_id: int, filenames: list[str]) -> None:
        """Tie the collection's WARC files of these names to the job's crawl."""
        with self._catalog.transaction() as s:
            row = _row(s, job_id)
            if row.crawl_id is None or not filenames:
                return
            s.execute(
                update(WarcFileRow)
                .where(
                    WarcFileRow.collection_id == row.collection_id,
                    WarcFileRow.filename.in_(filenames),
                )
                .values(crawl_id=row.crawl_id, source="crawl")
            )

    # what curators ask for

    def pause(self, job_id: int) -> Job:
        """Ask a running job to pause (its worker stops cleanly; resume continues it)."""
        return self._move(job_id, {"running": "pausing", "queued": "paused"}, "pause")

    def stop(self, job_id: int) -> Job:
        """End a job: a running worker stops, keeping what it wrote; a waiting job ends."""
        moves = {
            "running": "stopping",
            "pausing": "stopping",
            "queued": "stopped",
            "paused": "stopped",
            "interrupted": "stopped",
        }
        job = self._move(job_id, moves, "stop")
        if job.state == "stopped" and job.crawl_id is not None:
            with self._catalog.transaction() as s:
                crawl = s.get(CrawlRow, job.crawl_id)
                if crawl is not None and crawl.status == "interrupted":
                    crawl.status = "finished"  # over: `vellum crawl --resume` leaves it alone
        return job

    def resume(self, job_id: int) -> Job:
        """Queue a paused or interrupted job again; its worker continues the same crawl."""
        job = self.get(job_id)
        if job.state in RESUMABLE and job.crawl_id is None and job.state != "paused":
            raise VellumError(f"job {job_id} never started a crawl: start a new one instead")
        if job.state in RESUMABLE:
            with self._catalog.transaction() as s:
                busy = _busy_seeds(s, list(job.seed_ids), exclude=job_id)
            if busy:
                seed_id, other = next(iter(sorted(busy.items())))
                raise VellumError(f"seed {seed_id} is being crawled by job {other}")
        return self._move(job_id, {s: "queued" for s in RESUMABLE}, "resume")

    def mark(self, job_id: int, state: str, error: str = "") -> Job:
        """Set a job's state outright (saved, discarded, interrupted by the scheduler)."""
        with self._catalog.transaction() as s:
            row = _row(s, job_id)
            row.state = state
            if error:
                row.error = error
            if state not in ACTIVE:
                row.finished = row.finished or self._clock()
            return _job(row, row.collection.slug)

    def _move(self, job_id: int, moves: dict[str, str], verb: str) -> Job:
        with self._catalog.transaction() as s:
            row = _row(s, job_id)
            if row.state not in moves:
                raise VellumError(f"job {job_id} is {row.state}: it cannot {verb}")
            row.state = moves[row.state]
            if row.state == "queued":
                row.finished = None
                row.error = ""
            elif row.state in ("paused", "stopped"):
                row.finished = self._clock()
            return _job(row, row.collection.slug)


def _busy_seeds(s: Any, seed_ids: list[int], exclude: int | None = None) -> dict[int, int]:
    """Seeds (of these) in an active job: seed id -> job id."""
    query = (
        select(CrawlJobSeedRow.seed_id, CrawlJobRow.id)
        .join(CrawlJobRow, CrawlJobRow.id == CrawlJobSeedRow.job_id)
        .where(CrawlJobSeedRow.seed_id.in_(seed_ids), CrawlJobRow.state.in_(ACTIVE))
    )
    if exclude is not None:
        query = query.where(CrawlJobRow.id != exclude)
    return {int(seed): int(job) for seed, job in s.execute(query)}


def _new_job(
    collection_id: int, trigger: str, test: bool, requested_by: str, now: datetime
) -> CrawlJobRow:
    if trigger not in TRIGGERS:
        raise InvalidInput(f"unknown trigger {trigger!r}")
    return CrawlJobRow(
        collection_id=collection_id,
        state="queued",
        trigger=trigger,
        test=test,
        requested_by=requested_by,
        requested=now,
        progress="{}",
        error="",
    )


def _row(s: Any, job_id: int) -> CrawlJobRow:
    row = s.get(CrawlJobRow, job_id)
    if row is None:
        raise NotFound(f"no crawl job {job_id} (see 'vellum crawl-job list SLUG')")
    assert isinstance(row, CrawlJobRow)
    return row


def _job(row: CrawlJobRow, slug: str) -> Job:
    def aware(value: datetime | None) -> datetime | None:
        return utc(value) if value is not None else None

    return Job(
        id=row.id,
        collection_slug=slug,
        state=row.state,
        trigger=row.trigger,
        test=row.test,
        requested_by=row.requested_by,
        requested=utc(row.requested),
        started=aware(row.started),
        finished=aware(row.finished),
        crawl_id=row.crawl_id,
        worker_pid=row.worker_pid,
        heartbeat=aware(row.heartbeat),
        progress=json.loads(row.progress or "{}"),
        error=row.error,
        seed_ids=tuple(sorted(link.seed_id for link in row.seeds)),
    )
