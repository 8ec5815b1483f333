"""The scheduler with an injected clock: due seeds start, none twice, missed runs once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from vellum.catalog import Catalog
from vellum.catalog.seeds import Seeds
from vellum.jobs.queue import Job, JobQueue
from vellum.jobs.scheduler import Scheduler
from vellum.settings import Settings

T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


class Now:
    """A clock the test moves."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def now() -> Now:
    return Now(T0)


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Real processes standing in for workers (they just wait); killed by id at the end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait()


def _sched(
    settings: Settings, catalog: Catalog, now: Now, sleepers: list[subprocess.Popen[bytes]]
) -> Scheduler:
    def launch(job: Job) -> subprocess.Popen[bytes]:
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        sleepers.append(p)
        return p

    return Scheduler(settings, catalog, clock=now, launcher=launch, max_workers=2)


def test_due_seeds_start_and_schedules_move_on(
    settings: Settings,
    catalog: Catalog,
    coll: str,
    now: Now,
    sleepers: list[subprocess.Popen[bytes]],
) -> None:
    seeds = Seeds(catalog, now)
    daily = seeds.add(coll, "https://a.example/", frequency="daily")
    weekly = seeds.add(coll, "https://b.example/", frequency="weekly")
    once = seeds.add(coll, "https://c.example/")  # one-time: only when asked
    assert daily.next_due == T0 and once.next_due is None
    sched = _sched(settings, catalog, now, sleepers)
    jobs = sched.enqueue_due()
    assert [(j.trigger, j.seed_ids) for j in jobs] == [("schedule", (daily.id, weekly.id))]
    assert seeds.get(daily.id).next_due == T0 + timedelta(days=1)
    assert seeds.get(weekly.id).next_due == T0 + timedelta(weeks=1)
    assert sched.enqueue_due() == []  # nothing due any more
    now.at = T0 + timedelta(days=1)
    assert sched.enqueue_due() == []  # the daily seed is still in the queued job: not twice
    assert seeds.get(daily.id).next_due == T0 + timedelta(days=2)  # that slot is skipped


def test_a_seed_whose_job_runs_is_not_started_twice(
    settings: Settings,
    catalog: Catalog,
    coll: str,
    now: Now,
    sleepers: list[subprocess.Popen[bytes]],
) -> None:
    seeds = Seeds(catalog, now)
    seed = seeds.add(coll, "https://a.example/", frequency="12-hourly")
    sched = _sched(settings, catalog, now, sleepers)
    started = sched.tick()
    assert len(started) == 1 and started[0].state == "running"
    for hours in (12, 24, 36):
        now.at = T0 + timedelta(hours=hours)
        assert sched.tick() == []
    queue = JobQueue(catalog, now)
    assert [j.id for j in queue.jobs(coll)] == [started[0].id]
    with pytest.raises(Exception, match=f"seed {seed.id} is already being crawled by job"):
        queue.enqueue(coll)  # "crawl now" is refused too


def test_missed_runs_run_once_after_a_restart(
    settings: Settings,
    catalog: Catalog,
    coll: str,
    now: Now,
    sleepers: list[subprocess.Popen[bytes]],
) -> None:
    seeds = Seeds(catalog, now)
    seed = seeds.add(coll, "https://a.example/", frequency="monthly")
    _sched(settings, catalog, now, sleepers).enqueue_due()  # the first run, at T0
    JobQueue(catalog, now).mark(1, "finished")
    catalog.close()
    # the server is down for five months; a new process, a new catalog connection
    now.at = datetime(2026, 7, 2, 8, 0, tzinfo=UTC)
    again = Catalog(settings.catalog_path)
    try:
        sched = _sched(settings, again, now, sleepers)
        jobs = sched.enqueue_due()
        assert len(jobs) == 1 and jobs[0].seed_ids == (seed.id,)
        # the next slot after now, on the anchor's day (the 31st, clamped): July 31
        assert Seeds(again).get(seed.id).next_due == datetime(2026, 7, 31, 9, 0, tzinfo=UTC)
        assert sched.enqueue_due() == []
    finally:
        again.close()


def test_paused_seeds_never_start(
    settings: Settings,
    catalog: Catalog,
    coll: str,
    now: Now,
    sleepers: list[subprocess.Popen[bytes]],
) -> None:
    seeds = Seeds(catalog, now)
    seed = seeds.add(coll, "https://a.example/", frequency="daily")
    seeds.update(seed.id, active=False)
    sched = _sched(settings, catalog, now, sleepers)
    for days in range(4):
        now.at = T0 + timedelta(days=days)
        assert sched.tick() == []
    assert JobQueue(catalog).jobs(coll) == []
    seeds.update(seed.id, active=True)  # resumed: the missed runs run once
    assert len(sched.enqueue_due()) == 1
    assert seeds.get(seed.id).next_due == T0 + timedelta(days=4)


def test_workers_started_within_limits_one_per_collection(
    settings: Settings,
    catalog: Catalog,
    coll: str,
    now: Now,
    sleepers: list[subprocess.Popen[bytes]],
) -> None:
    catalog.create_collection("blogs", "PL", "Blogs")
    catalog.create_collection("gov", "PL", "Government")
    seeds = Seeds(catalog, now)
    queue = JobQueue(catalog, now)
    for slug in ("news", "news", "blogs", "gov"):
        seeds.add(slug, f"https://{slug}-{len(sleepers)}-{queue.jobs().__len__()}.example/")
        queue.enqueue(slug, [seeds.of(slug)[-1].id])
    sched = _sched(settings, catalog, now, sleepers)
    started = sched.tick()
    # oldest first; the second news job waits for the first; at most two workers
    assert [j.collection_slug for j in started] == ["news", "blogs"]
    assert all(j.worker_pid for j in started)
    assert sched.tick() == []
    sleepers[0].kill()  # the news worker dies
    sleepers[0].wait()
    later = sched.tick()
    assert queue.get(started[0].id).state == "interrupted"
    assert [j.collection_slug for j in later] == ["news"]


def test_a_stale_worker_whose_process_is_gone_is_interrupted(
    settings: Settings,
    catalog: Catalog,
    coll: str,
    now: Now,
    sleepers: list[subprocess.Popen[bytes]],
) -> None:
    seeds = Seeds(catalog, now)
    seeds.add(coll, "https://a.example/")
    queue = JobQueue(catalog, now)
    job = queue.enqueue(coll)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id that no longer runs (a worker of an earlier server)
    assert queue.claim(job.id)
    queue.set_worker(job.id, gone.pid)
    queue.beat(job.id, {"pages": 3})
    sched = _sched(settings, catalog, now, sleepers)
    now.at = T0 + timedelta(seconds=10)
    assert sched.reap() == []  # the heartbeat is recent: give it time
    now.at = T0 + timedelta(seconds=45)
    [dead] = sched.reap()
    assert dead.state == "interrupted" and "no heartbeat" in dead.error
    # a live process with a stale heartbeat (busy, not dead) is left alone
    job2 = queue.enqueue(coll)
    assert queue.claim(job2.id)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    sleepers.append(alive)
    queue.set_worker(job2.id, alive.pid)
    now.at = T0 + timedelta(minutes=10)
    assert sched.reap() == []
