"""The scheduler inside `vellum serve`: due seeds become jobs, queued jobs get workers.

Everything it knows is in the catalog, so a restart loses nothing: a seed's `next_due`
says when it runs next. At each tick (about a second apart):

1. workers that died are found (their process exited without ending the job, or their
   heartbeat is stale and their process is gone) and their jobs marked interrupted;
2. active seeds that are due get a job, one per collection; a seed still in a queued or
   running job is not started twice; its `next_due` moves to the first slot after now,
   so runs missed while the server was down run once, not once per missed slot;
3. queued jobs are started, each in a worker process (`vellum worker --job ID`), at most
   `max_workers` at a time and one per collection (they share its index).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from vellum.catalog import Catalog
from vellum.catalog.models import CrawlJobRow, CrawlJobSeedRow, SeedRow
from vellum.clock import Clock, system_clock
from vellum.jobs.frequency import next_slot, recurring, utc
from vellum.jobs.queue import ACTIVE, WORKING, Job, JobQueue, _new_job
from vellum.settings import Settings

STALE = timedelta(seconds=30)  # a heartbeat older than this, and no process: dead
TICK_SECONDS = 1.0

Launcher = Callable[[Job], "subprocess.Popen[bytes]"]


def worker_command(settings: Settings, job_id: int) -> list[str]:
    """The command line of a job's worker process."""
    return [
        sys.executable, "-m", "vellum", "--data", str(settings.data_dir),
        "worker", "--job", str(job_id),
    ]  # fmt: skip


def log_path(settings: Settings, job_id: int) -> Path:
    """Where a worker's output goes."""
    return settings.data_dir / "jobs" / f"{job_id}.log"


def launch_worker(settings: Settings) -> Launcher:
    """Start workers as `python -m vellum worker --job ID`, output in `jobs/<id>.log`."""

    def launch(job: Job) -> subprocess.Popen[bytes]:
        log = log_path(settings, job.id)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            return subprocess.Popen(
                worker_command(settings, job.id),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C at the server's terminal is not theirs
            )

    return launch


class Scheduler:
    """Due seeds to jobs, jobs to worker processes; `tick()` does one round."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        clock: Clock = system_clock,
        launcher: Launcher | None = None,
        max_workers: int = 2,
        stale: timedelta = STALE,
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._clock = clock
        self._queue = JobQueue(catalog, clock)
        self._launch = launcher or launch_worker(settings)
        self.max_workers = max_workers
        self._stale = stale
        self.children: list[tuple[int, subprocess.Popen[bytes]]] = []  # (job id, worker)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[Job]:
        """One round: reap dead workers, enqueue due seeds, start queued jobs (returned)."""
        self.reap()
        self.enqueue_due()
        return self.start_queued()

    # 1. dead workers

    def reap(self) -> list[Job]:
        """Mark interrupted the jobs whose worker died; returns them."""
        dead: list[Job] = []
        for job_id, child in list(self.children):
            code = child.poll()
            if code is None:
                continue
            self.children.remove((job_id, child))
            job = self._queue.get(job_id)
            if job.working and job.worker_pid == child.pid:
                how = f"signal {-code}" if code < 0 else f"exit status {code}"
                dead.append(self._died(job, f"the worker process died ({how})"))
        now = self._clock()
        ours = {child.pid for _, child in self.children}
        for job in self._queue.jobs(states=WORKING):
            if job.worker_pid in ours:
                continue
            last = job.heartbeat or job.started or job.requested
            if now - last > self._stale and not _alive(job.worker_pid):
                dead.append(self._died(job, "the worker stopped answering (no heartbeat)"))
        return dead

    def _died(self, job: Job, why: str) -> Job:
        note = "; resume continues the crawl" if job.crawl_id is not None else ""
        return self._queue.mark(job.id, "interrupted", why + note)

    # 2. due seeds

    def enqueue_due(self) -> list[Job]:
        """A job per collection for its active seeds that are due; schedules move on."""
        now = self._clock()
        jobs: list[Job] = []
        with self._catalog.transaction() as s:
            due = list(
                s.scalars(
                    select(SeedRow)
                    .where(SeedRow.active.is_(True), SeedRow.next_due.is_not(None))
                    .where(SeedRow.next_due <= now)
                    .order_by(SeedRow.collection_id, SeedRow.id)
                )
            )
            if not due:
                return []
            busy = set(
                s.scalars(
                    select(CrawlJobSeedRow.seed_id)
                    .join(CrawlJobRow, CrawlJobRow.id == CrawlJobSeedRow.job_id)
                    .where(CrawlJobRow.state.in_(ACTIVE))
                )
            )
            by_collection: dict[int, list[SeedRow]] = {}
            for seed in due:
                seed.next_due = (
                    next_slot(utc(seed.created), seed.frequency, now)
                    if recurring(seed.frequency)
                    else None
                )
                if seed.id not in busy:  # still crawling: this slot is skipped
                    by_collection.setdefault(seed.collection_id, []).append(seed)
            rows = []
            for collection_id, seeds in by_collection.items():
                row = _new_job(collection_id, "schedule", False, "", now)
                row.seeds = [CrawlJobSeedRow(seed_id=seed.id) for seed in seeds]
                s.add(row)
                rows.append(row)
            s.flush()
            ids = [r.id for r in rows]
        jobs = [self._queue.get(i) for i in ids]
        return jobs

    # 3. workers

    def start_queued(self) -> list[Job]:
        """Start workers for queued jobs, within the limits; returns the jobs started."""
        working = self._queue.jobs(states=WORKING)
        busy = {j.collection_slug for j in working}
        room = self.max_workers - len(working)
        started: list[Job] = []
        for job in reversed(self._queue.jobs(states=("queued",))):  # oldest first
            if room <= 0:
                break
            if job.collection_slug in busy or job.id in {i for i, _ in self.children}:
                continue  # (its last worker is still exiting)
            if not self._queue.claim(job.id):
                continue
            try:
                child = self._launch(job)
            except OSError as exc:
                self._queue.mark(job.id, "failed", f"cannot start a worker: {exc}")
                continue
            self.children.append((job.id, child))
            self._queue.set_worker(job.id, child.pid)
            busy.add(job.collection_slug)
            room -= 1
            started.append(self._queue.get(job.id))
        return started

    # in a thread of `vellum serve`

    def start(self, interval: float = TICK_SECONDS) -> None:
        """Tick every `interval` seconds in a background thread until `stop()`."""
        self._thread = threading.Thread(
            target=self._loop, args=(interval,), name="vellum-scheduler", daemon=True
        )
        self._thread.start()

    def _loop(self, interval: float) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception as exc:  # a bad round must not end the scheduling
                print(f"scheduler: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._stopping.wait(interval)

    def stop(self, wait: float = 30.0) -> None:
        """Stop ticking; interrupt our workers cleanly (their jobs become resumable)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(wait)
        for _, child in self.children:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGINT)
        for _, child in self.children:
            try:
                child.wait(wait)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.reap()


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True
