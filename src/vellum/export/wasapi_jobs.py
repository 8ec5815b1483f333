"""WASAPI jobs: `build-cdx` and `build-wat` over the files a webdata query selects.

A job is a directory `<data>/wasapi/jobs/<token>/` holding `job.json` (its state,
replaced atomically) and, once complete, its result files. Jobs run one at a time in a
background thread; a job that a restart interrupted is marked failed when the store
opens. Results are listed as a WASAPI FileSet, with checksums computed once written.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, NotFound

__all__ = ["FUNCTIONS", "Job", "JobFile", "JobStore"]

FUNCTIONS = ("build-cdx", "build-wat")
_TOKEN_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789")


@dataclass(frozen=True)
class JobFile:
    """A result file of a job, with its checksums."""

    filename: str
    size: int
    sha1: str
    md5: str


@dataclass(frozen=True)
class Job:
    """A job's state, as `GET /jobs/<token>` shows it (plus who may see it)."""

    jobtoken: str
    function: str
    query: str
    submit_time: str
    state: str  # queued, running, failed, complete, gone
    owner: str  # the principal's user name
    organizations: tuple[int, ...]
    admin: bool
    termination_time: str | None = None
    error: str | None = None
    inputs: tuple[tuple[str, str], ...] = ()  # (collection slug, WARC filename)
    results: tuple[JobFile, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, object]:
        return {
            "jobtoken": self.jobtoken,
            "function": self.function,
            "query": self.query,
            "submit-time": self.submit_time,
            "termination-time": self.termination_time,
            "state": self.state,
        }


Build = Callable[[Job, Path], None]
"""A job's work: write its result files into the directory given."""


class JobStore:
    """Jobs on disk and the thread that runs them."""

    def __init__(self, root: Path, clock: Clock = system_clock) -> None:
        self._root = root
        self._clock = clock
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vellum-wasapi-job")
        root.mkdir(parents=True, exist_ok=True)
        for job in self.all():
            if job.state in ("queued", "running"):
                self._save(
                    replace(
                        job,
                        state="failed",
                        error="interrupted: the service stopped before the job finished",
                        termination_time=self._now(),
                    )
                )

    def submit(
        self,
        function: str,
        query: str,
        inputs: list[tuple[str, str]],
        owner: str,
        organizations: frozenset[int],
        admin: bool,
        build: Build,
    ) -> Job:
        """Queue a job; `build(job, directory)` writes its result files into `directory`."""
        if function not in FUNCTIONS:
            raise InvalidInput(f"function must be one of {', '.join(FUNCTIONS)}, not {function!r}")
        job = Job(
            jobtoken=secrets.token_hex(12),
            function=function,
            query=query,
            submit_time=self._now(),
            state="queued",
            owner=owner,
            organizations=tuple(sorted(organizations)),
            admin=admin,
            inputs=tuple(inputs),
        )
        (self._root / job.jobtoken).mkdir()
        self._save(job)
        self._pool.submit(self._run, job.jobtoken, build)
        return job

    def get(self, token: str) -> Job:
        if not token or not set(token) <= _TOKEN_CHARS:
            raise NotFound(f"no job {token!r}")
        path = self._root / token / "job.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise NotFound(f"no job {token!r}") from None
        data["organizations"] = tuple(data["organizations"])
        data["inputs"] = tuple(tuple(pair) for pair in data["inputs"])
        data["results"] = tuple(JobFile(**f) for f in data["results"])
        return Job(**data)

    def all(self) -> list[Job]:
        """Every job, oldest first."""
        jobs = []
        for child in self._root.iterdir():
            if (child / "job.json").exists():
                try:
                    jobs.append(self.get(child.name))
                except NotFound:
                    continue
        return sorted(jobs, key=lambda j: (j.submit_time, j.jobtoken))

    def result_path(self, job: Job, filename: str) -> Path:
        if filename not in {f.filename for f in job.results}:
            raise NotFound(f"job {job.jobtoken} has no result {filename!r}")
        return self._root / job.jobtoken / "results" / filename

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the jobs queued so far (for tests and shutdown)."""
        marker = self._pool.submit(lambda: None)
        marker.result(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _run(self, token: str, build: Build) -> None:
        job = replace(self.get(token), state="running")
        self._save(job)
        out = self._root / token / "results"
        out.mkdir(exist_ok=True)
        try:
            build(job, out)
            results = tuple(_describe(p) for p in sorted(out.iterdir()) if p.is_file())
            self._save(
                replace(job, state="complete", results=results, termination_time=self._now())
            )
        except Exception as exc:
            self._save(
                replace(
                    job,
                    state="failed",
                    error=str(exc) or type(exc).__name__,
                    termination_time=self._now(),
                )
            )

    def _save(self, job: Job) -> None:
        path = self._root / job.jobtoken / "job.json"
        temp = path.with_name("job.json.part")
        with self._lock:
            temp.write_text(json.dumps(asdict(job)), encoding="utf-8")
            os.replace(temp, path)

    def _now(self) -> str:
        when: datetime = self._clock()
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _describe(path: Path) -> JobFile:
    sha1, md5 = hashlib.sha1(), hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha1.update(chunk)
            md5.update(chunk)
    return JobFile(path.name, path.stat().st_size, sha1.hexdigest(), md5.hexdigest())
