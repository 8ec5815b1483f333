"""Real worker processes crawling a site on 127.0.0.1: progress, pause, resume, stop, kill -9."""

from __future__ import annotations

import html
import os
import signal

import pytest

from vellum.capture.report import report_tables
from vellum.catalog import Catalog
from vellum.catalog.crawls import load_report
from vellum.catalog.seeds import Seeds
from vellum.index.store import open_index
from vellum.jobs.queue import Job, JobQueue
from vellum.jobs.scheduler import Scheduler
from vellum.search.feed import open_search_index
from vellum.search.model import SearchRequest
from vellum.search.query import parse_query
from vellum.settings import Settings

from .conftest import run_until
from .site import PagesSite
from .web import browser, make_people

pytestmark = pytest.mark.slow  # real crawls in worker processes


def _hits(settings: Settings, text: str, slug: str) -> int:
    index = open_search_index(settings)
    try:
        return index.search(SearchRequest(parse_query(text), [slug])).total
    finally:
        index.close()


def _urls(settings: Settings, slug: str) -> set[str]:
    store = open_index(settings.index_dir(slug), settings.warc_dir(slug))
    try:
        return {c.url for c in store.all()}
    finally:
        store.close()


def test_worker_crawls_to_completion_with_progress(
    settings: Settings,
    catalog: Catalog,
    coll: str,
    seeds: Seeds,
    queue: JobQueue,
    scheduler: Scheduler,
) -> None:
    with PagesSite(pages=12, delay=0.15) as site:
        seed = seeds.add(coll, site.url, "host")
        job = queue.enqueue(coll, requested_by="alice")
        started = scheduler.tick()
        assert [j.id for j in started] == [job.id]
        assert queue.get(job.id).worker_pid == scheduler.children[0][1].pid
        seen: list[int] = []

        def progressed(current: Job) -> bool:
            seen.append(current.progress.get("pages", 0))
            return current.state not in ("queued", "running")

        done = run_until(scheduler, queue, job.id, progressed)
    assert done.state == "finished", done.error
    assert done.crawl_id is not None
    # progress arrived while it ran, then the final figures
    assert any(0 < p < 13 for p in seen[:-1]), seen
    assert done.progress["pages"] >= 12
    assert done.progress["bytes"] > 0
    assert done.heartbeat is not None
    # the pages are in the collection, tied to the crawl, searchable; the seed knows the crawl
    assert {f"{site.url}p/{i}" for i in range(1, 12)} <= _urls(settings, coll)
    files = catalog.warc_files(coll)
    assert files
    from sqlalchemy import select

    from vellum.catalog.models import WarcFileRow

    with catalog.transaction() as s:
        ids = set(s.scalars(select(WarcFileRow.crawl_id)))
    assert ids == {done.crawl_id}
    assert seeds.get(seed.id).last_crawl_id == done.crawl_id
    assert _hits(settings, "archive test page", coll) >= 12
    # the job page shows the report with the figures of `vellum crawl report`
    make_people(catalog)
    with browser(settings, catalog, "carla") as client:
        page = client.get(f"/admin/jobs/{job.id}")
    assert page.status_code == 200
    tables = report_tables(load_report(catalog, done.crawl_id))
    assert len(tables) >= 3
    for title, rows in tables:
        assert f"<caption>{html.escape(title)}</caption>" in page.text
        for name, value in rows:
            assert (
                f'<th scope="row">{html.escape(name)}</th><td class="num">{html.escape(value)}</td>'
                in page.text
            )


def test_pause_then_resume_continues_the_same_crawl(
    settings: Settings, coll: str, seeds: Seeds, queue: JobQueue, scheduler: Scheduler
) -> None:
    with PagesSite(pages=45, delay=0.1) as site:
        seeds.add(coll, site.url, "host")
        job = queue.enqueue(coll)
        run_until(scheduler, queue, job.id, lambda j: j.progress.get("pages", 0) >= 5)
        queue.pause(job.id)
        paused = run_until(
            scheduler, queue, job.id, lambda j: j.state not in ("running", "pausing")
        )
        assert paused.state == "paused", paused.error
        assert paused.progress["pages"] < 45
        crawl_id = paused.crawl_id
        assert crawl_id is not None
        hits = site.hits
        assert len(_urls(settings, coll)) < 45  # stopped part-way, what it wrote is indexed
        queue.resume(job.id)
        done = run_until(scheduler, queue, job.id, lambda j: j.state in ("finished", "failed"))
    assert done.state == "finished", done.error
    assert done.crawl_id == crawl_id  # resumed, not a new crawl
    assert done.progress["pages"] >= 45  # counted over both sessions
    assert {f"{site.url}p/{i}" for i in range(1, 45)} <= _urls(settings, coll)
    assert site.hits - hits < 45  # pages fetched before the pause were not fetched again


def test_stop_ends_the_job_and_keeps_what_was_written(
    settings: Settings,
    catalog: Catalog,
    coll: str,
    seeds: Seeds,
    queue: JobQueue,
    scheduler: Scheduler,
) -> None:
    with PagesSite(pages=80, delay=0.1) as site:
        seeds.add(coll, site.url, "host")
        job = queue.enqueue(coll)
        run_until(scheduler, queue, job.id, lambda j: j.progress.get("pages", 0) >= 4)
        queue.stop(job.id)
        done = run_until(scheduler, queue, job.id, lambda j: j.state not in ("running", "stopping"))
    assert done.state == "stopped", done.error
    kept = _urls(settings, coll)
    assert 4 <= len(kept) < 80
    assert catalog.warc_files(coll)
    crawl = next(c for c in catalog.crawls(coll) if c.id == done.crawl_id)
    assert crawl.status == "finished"  # over: `vellum crawl --resume` will not pick it up
    with pytest.raises(Exception, match="cannot resume"):
        queue.resume(job.id)


def test_worker_killed_with_sigkill_is_detected_and_resumable(
    settings: Settings, coll: str, seeds: Seeds, queue: JobQueue, scheduler: Scheduler
) -> None:
    with PagesSite(pages=40, delay=0.1) as site:
        seeds.add(coll, site.url, "host")
        job = queue.enqueue(coll)
        running = run_until(scheduler, queue, job.id, lambda j: j.progress.get("pages", 0) >= 3)
        assert running.worker_pid is not None
        os.kill(running.worker_pid, signal.SIGKILL)
        dead = run_until(scheduler, queue, job.id, lambda j: j.state != "running")
        assert dead.state == "interrupted"
        assert "signal 9" in dead.error
        assert dead.can_resume
        queue.resume(job.id)
        done = run_until(scheduler, queue, job.id, lambda j: j.state in ("finished", "failed"))
    assert done.state == "finished", done.error
    assert done.crawl_id == dead.crawl_id
    assert {f"{site.url}p/{i}" for i in range(1, 40)} <= _urls(settings, coll)
