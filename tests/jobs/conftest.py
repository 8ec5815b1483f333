"""Fixtures of the crawl-job tests: a collection with an organization, the job queue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from vellum.catalog import Catalog
from vellum.catalog.seeds import Seeds
from vellum.jobs.queue import Job, JobQueue
from vellum.jobs.scheduler import Scheduler
from vellum.settings import Settings


@pytest.fixture
def coll(catalog: Catalog) -> str:
    catalog.create_organization("Partner Library", "PL")
    catalog.create_collection("news", "PL", "News sites")
    return "news"


@pytest.fixture
def seeds(catalog: Catalog) -> Seeds:
    return Seeds(catalog)


@pytest.fixture
def queue(catalog: Catalog) -> JobQueue:
    return JobQueue(catalog)


@pytest.fixture
def scheduler(settings: Settings, catalog: Catalog) -> Iterator[Scheduler]:
    """A scheduler starting real worker processes (stopped, by id, at the end)."""
    sched = Scheduler(settings, catalog)
    yield sched
    for _, child in sched.children:
        if child.poll() is None:
            child.kill()
            child.wait()


def run_until(
    scheduler: Scheduler,
    queue: JobQueue,
    job_id: int,
    done: Callable[[Job], bool],
    timeout: float = 60.0,
) -> Job:
    """Tick the scheduler until `done(job)`; the job as it then is."""
    end = time.monotonic() + timeout
    while True:
        scheduler.tick()
        job = queue.get(job_id)
        if done(job):
            return job
        if time.monotonic() > end:
            raise AssertionError(f"job {job_id} still {job.state}: {job.progress} {job.error}")
        time.sleep(0.1)
