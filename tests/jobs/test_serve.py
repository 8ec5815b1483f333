"""`vellum serve` runs the scheduler: a queued job is crawled by a worker it starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from vellum.catalog import Catalog
from vellum.catalog.seeds import Seeds
from vellum.jobs.queue import JobQueue
from vellum.settings import Settings

from .site import PagesSite

pytestmark = pytest.mark.slow


def test_serve_starts_queued_jobs_in_worker_processes(
    settings: Settings, catalog: Catalog, coll: str
) -> None:
    with PagesSite(pages=6) as site:
        Seeds(catalog).add(coll, site.url)
        job = JobQueue(catalog).enqueue(coll, requested_by="carla")
        server = subprocess.Popen(
            [sys.executable, "-m", "vellum", "--data", str(settings.data_dir), "serve",
             "--port", "0", "--replay-port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            end = time.monotonic() + 90
            while JobQueue(catalog).get(job.id).state in ("queued", "running"):
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < end, JobQueue(catalog).get(job.id)
                time.sleep(0.2)
            done = JobQueue(catalog).get(job.id)
            assert done.state == "finished", done.error
            assert done.worker_pid not in (None, server.pid, os.getpid())
            assert catalog.warc_files(coll)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if server.stdout is not None:
                server.stdout.close()
