"""Job pages: /admin/jobs/{id} (live progress, the crawl report, pause/stop/resume, and for
test crawls the captures to review with save/discard) and /admin/collections/{slug}/jobs."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from vellum.auth.sessions import LoginSession
from vellum.capture.report import report_tables
from vellum.catalog import Catalog, Collection
from vellum.catalog.crawls import load_report
from vellum.catalog.seeds import Seeds
from vellum.clock import Clock
from vellum.errors import NotFound, VellumError
from vellum.jobs.quarantine import discard_test_crawl, quarantined_captures, save_test_crawl
from vellum.jobs.queue import ACTIVE, Job, JobQueue
from vellum.settings import Settings
from vellum.web.jobs.common import HEADERS, Denied, Pages
from vellum.web.jobs.forms import posted

ACTIONS = ("pause", "stop", "resume", "save", "discard")
REFRESH_SECONDS = 2


class JobPages(Pages):
    def __init__(self, settings: Settings, catalog: Catalog, clock: Clock) -> None:
        super().__init__(catalog)
        self._settings = settings
        self._queue = JobQueue(catalog, clock)

    async def list(self, request: Request) -> Response:
        session, collection = await self.managed(request, request.path_params["slug"])
        jobs = await run_in_threadpool(self._queue.jobs, collection.slug)
        refresh = REFRESH_SECONDS if any(j.state in ACTIVE for j in jobs) else 0
        return self.render("jobs.html", session, collection=collection, jobs=jobs, refresh=refresh)

    async def show(self, request: Request) -> Response:
        job, session = await self._job(request)
        collection = await run_in_threadpool(self.catalog.get_collection, job.collection_slug)
        return await self._page(session, collection, job)

    async def progress(self, request: Request) -> Response:
        """The job's state and progress as JSON (the page's script polls it)."""
        job, _ = await self._job(request)
        body = {"id": job.id, "state": job.state, "progress": job.progress, "error": job.error}
        return JSONResponse(body, headers=HEADERS)

    async def act(self, request: Request) -> Response:
        action = request.path_params["action"]
        job, session = await self._job(request)
        if action not in ACTIONS:
            raise Denied
        await posted(request, session)
        try:
            if action == "pause":
                await run_in_threadpool(self._queue.pause, job.id)
            elif action == "stop":
                await run_in_threadpool(self._queue.stop, job.id)
            elif action == "resume":
                await run_in_threadpool(self._queue.resume, job.id)
            elif action == "save":
                await run_in_threadpool(save_test_crawl, self._settings, self.catalog, job.id)
            else:
                await run_in_threadpool(discard_test_crawl, self._settings, self.catalog, job.id)
        except VellumError as exc:
            collection = await run_in_threadpool(self.catalog.get_collection, job.collection_slug)
            fresh = await run_in_threadpool(self._queue.get, job.id)
            return await self._page(session, collection, fresh, error=str(exc), status=409)
        return RedirectResponse(f"/admin/jobs/{job.id}", status_code=303, headers=HEADERS)

    async def _job(self, request: Request) -> tuple[Job, LoginSession]:
        raw = request.path_params["job_id"]
        if not raw.isdigit() or len(raw) > 12:
            raise Denied
        try:
            job = await run_in_threadpool(self._queue.get, int(raw))
        except NotFound:
            raise Denied from None
        session, _ = await self.managed(request, job.collection_slug)
        return job, session

    async def _page(
        self,
        session: LoginSession,
        collection: Collection,
        job: Job,
        error: str = "",
        status: int = 200,
    ) -> Response:
        report_rows: list[tuple[str, list[tuple[str, str]]]] = []
        if job.crawl_id is not None:
            try:
                report = await run_in_threadpool(load_report, self.catalog, job.crawl_id)
            except NotFound:
                report = {}
            if report:
                report_rows = report_tables(report)
        captures = []
        if job.test and job.state in ("finished", "stopped", "paused", "interrupted", "failed"):
            captures = await run_in_threadpool(quarantined_captures, self._settings, job)
        seeds = Seeds(self.catalog)
        seed_urls = []
        for seed_id in job.seed_ids:
            try:
                seed_urls.append(await run_in_threadpool(seeds.get, seed_id))
            except NotFound:
                continue
        return self.render(
            "job.html",
            session,
            status,
            collection=collection,
            job=job,
            seeds=seed_urls,
            report=report_rows,
            captures=captures,
            error=error,
            refresh=REFRESH_SECONDS if job.state in ACTIVE else 0,
        )
