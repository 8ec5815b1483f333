"""WASAPI v1 (Archive-It's data transfer API) at `/wasapi/v1/`.

- `GET /wasapi/v1/webdata`: the WARC files of the collections the caller may see,
  filtered and paged (see `wasapi_query`), each with the SHA-1 and MD5 computed at
  ingest and a download location;
- `GET /wasapi/v1/download/<slug>/<file>`: the file, with Range requests;
- `GET|POST /wasapi/v1/jobs`, `GET /wasapi/v1/jobs/<token>[/result|/error]`, and
  `/wasapi/v1/jobs/<token>/download/<file>`: `build-cdx` and `build-wat` jobs run in
  the background, their results served as a FileSet.

Access is the UI's: anonymous callers see public collections; an API token
(`Authorization: Bearer …`) also its organization's private ones; a private
collection's files are invisible (404) to everyone else. Jobs need a token (401).
Files are served whole, so a file holding a capture the caller may not see (excluded,
or under embargo) is neither listed nor served to that caller (`withheld`).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from vellum.access import Principal, can_view, principal_from_request, visible_collections
from vellum.access.exclusions import AccessRules
from vellum.catalog import Catalog, Collection
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, NotFound, VellumError
from vellum.export.derivatives import build_cdx, build_wat, wat_name
from vellum.export.selection import crawl_of_files
from vellum.export.wasapi_jobs import Build, Job, JobStore
from vellum.export.wasapi_query import (
    DEFAULT_PAGE_SIZE,
    FileEntry,
    filetype_of,
    page_of,
    parse_webdata_query,
)
from vellum.export.withheld import WithheldFiles
from vellum.index.importer import warc_path
from vellum.settings import Settings
from vellum.urls.timestamps import from_timestamp
from vellum.warc.entry import Entry
from vellum.warc.reader import scan

__all__ = ["Wasapi", "routes"]

PREFIX = "/wasapi/v1"


def routes(settings: Settings, catalog: Catalog, clock: Clock = system_clock) -> list[BaseRoute]:
    """The WASAPI routes, to go before the app's `/{slug}` routes."""
    return Wasapi(settings, catalog, clock).routes()


class Wasapi:
    """The handlers, the cache of first-capture times and the job store."""

    def __init__(self, settings: Settings, catalog: Catalog, clock: Clock = system_clock):
        self._settings = settings
        self._catalog = catalog
        self._clock = clock
        self._jobs: JobStore | None = None
        self._jobs_lock = threading.Lock()
        self._first_dates: dict[tuple[str, int], datetime] = {}
        self._access = AccessRules.of(catalog, settings)
        self._withheld = WithheldFiles(settings)  # files holding captures a view hides

    @property
    def jobs(self) -> JobStore:
        """The job store, opened on first use (it marks jobs a restart interrupted)."""
        with self._jobs_lock:
            if self._jobs is None:
                self._jobs = JobStore(self._settings.data_dir / "wasapi" / "jobs", self._clock)
            return self._jobs

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{PREFIX}/webdata", self.webdata),
            Route(f"{PREFIX}/download/{{slug}}/{{filename}}", self.download),
            Route(f"{PREFIX}/jobs", self.jobs_page, methods=["GET", "POST"]),
            Route(f"{PREFIX}/jobs/{{token}}", self.job),
            Route(f"{PREFIX}/jobs/{{token}}/result", self.job_result),
            Route(f"{PREFIX}/jobs/{{token}}/error", self.job_error),
            Route(f"{PREFIX}/jobs/{{token}}/download/{{filename}}", self.job_download),
        ]

    # webdata

    def webdata(self, request: Request) -> Response:
        principal = principal_from_request(request, self._catalog)
        try:
            query = parse_webdata_query(request.query_params.multi_items())
            count, files = page_of(self.entries(principal), query)
        except InvalidInput as exc:
            return _error(400, str(exc))
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "count": count,
                "next": _page_url(request, query.page + 1)
                if query.page * query.page_size < count
                else None,
                "previous": _page_url(request, query.page - 1) if query.page > 1 else None,
                "includes-extra": False,
                "files": [f.to_json(base) for f in files],
            }
        )

    def entries(self, principal: Principal) -> list[FileEntry]:
        """Every WARC file the principal may see, by collection and name."""
        found: list[FileEntry] = []
        for collection in visible_collections(self._catalog, principal):
            owners = crawl_of_files(self._catalog, collection.slug)
            view = self._access.view(principal, collection)
            withheld = self._withheld.of(collection.slug, view)
            for warc in self._catalog.warc_files(collection.slug):
                if warc.filename in withheld:
                    continue
                crawl = owners.get(warc.filename)
                found.append(
                    FileEntry(
                        filename=warc.filename,
                        filetype=filetype_of(warc.filename),
                        sha1=warc.sha1,
                        md5=warc.md5,
                        size=warc.size,
                        collection_id=collection.id,
                        collection_slug=collection.slug,
                        account=collection.organization.id,
                        crawl=crawl.id if crawl is not None else None,
                        crawl_time=self._first_date(collection.slug, warc.filename, warc.added),
                        crawl_start=crawl.started if crawl is not None else None,
                        download_path=f"{PREFIX}/download/{collection.slug}/{warc.filename}",
                    )
                )
        return found

    def download(self, request: Request) -> Response:
        slug, filename = request.path_params["slug"], request.path_params["filename"]
        principal = principal_from_request(request, self._catalog)
        collection = self._visible(principal, slug)
        known = set()
        if collection is not None:
            known = {w.filename for w in self._catalog.warc_files(slug)}
            known -= self._withheld.of(slug, self._access.view(principal, collection))
        if collection is None or filename not in known:
            return _error(404, "no such file")
        try:
            path = warc_path(self._settings, slug, filename)
        except VellumError as exc:
            return _error(404, str(exc))
        return FileResponse(path, media_type="application/warc", filename=filename)

    # jobs

    async def jobs_page(self, request: Request) -> Response:
        principal = principal_from_request(request, self._catalog)
        if principal.anonymous:
            return _unauthorized()
        if request.method == "POST":
            body = (await request.body()).decode("utf-8", "replace")
            return await run_in_threadpool(self._submit, request, principal, body)
        try:
            page, size = _paging(request)
        except InvalidInput as exc:
            return _error(400, str(exc))
        jobs = [j for j in self.jobs.all() if _may_see(principal, j)]
        shown = jobs[(page - 1) * size : page * size]
        return JSONResponse(
            {
                "count": len(jobs),
                "next": _page_url(request, page + 1) if page * size < len(jobs) else None,
                "previous": _page_url(request, page - 1) if page > 1 else None,
                "jobs": [j.to_json() for j in shown],
            }
        )

    def _submit(self, request: Request, principal: Principal, body: str) -> Response:
        form = dict(parse_qsl(body, keep_blank_values=True))
        function = form.get("function", "")
        if "query" not in form:
            return _error(400, "query is required (send it empty to mean every file)")
        try:
            params = [(k, v) for k, v in parse_qsl(form["query"], keep_blank_values=True)]
            params = [(k, v) for k, v in params if k not in ("page", "page_size")]
            query = parse_webdata_query(params)
            inputs = [
                (e.collection_slug, e.filename)
                for e in self.entries(principal)
                if query.matches(e) and e.filetype in ("warc", "arc")
            ]
            if not inputs:
                raise InvalidInput("the query selects no WARC files")
            job = self.jobs.submit(
                function,
                form["query"],
                inputs,
                principal.user or "",
                principal.organizations,
                principal.admin,
                self._builder(function),
            )
        except InvalidInput as exc:
            return _error(400, str(exc))
        return JSONResponse(job.to_json(), status_code=201)

    def _builder(self, function: str) -> Build:
        settings = self._settings

        def build(job: Job, out: Path) -> None:
            warcs = [(name, warc_path(settings, slug, name)) for slug, name in job.inputs]
            if function == "build-cdx":
                build_cdx(warcs, out / f"{job.jobtoken}.cdxj", out.parent)
                return
            for slug, name in job.inputs:
                target = out / wat_name(name)
                if target.exists():
                    target = out / f"{slug}-{wat_name(name)}"
                build_wat(name, warc_path(settings, slug, name), target)

        return build

    def job(self, request: Request) -> Response:
        found = self._job(request)
        return found if isinstance(found, Response) else JSONResponse(found.to_json())

    def job_result(self, request: Request) -> Response:
        found = self._job(request)
        if isinstance(found, Response):
            return found
        if found.state == "gone":
            return _error(410, f"the results of job {found.jobtoken} are gone")
        if found.state != "complete":
            return _error(404, f"job {found.jobtoken} is {found.state}, not complete")
        try:
            page, size = _paging(request)
        except InvalidInput as exc:
            return _error(400, str(exc))
        base = str(request.base_url).rstrip("/")
        shown = found.results[(page - 1) * size : page * size]
        return JSONResponse(
            {
                "count": len(found.results),
                "next": _page_url(request, page + 1) if page * size < len(found.results) else None,
                "previous": _page_url(request, page - 1) if page > 1 else None,
                "files": [
                    {
                        "filename": f.filename,
                        "filetype": filetype_of(f.filename),
                        "checksums": {"sha1": f.sha1, "md5": f.md5},
                        "size": f.size,
                        "locations": [
                            f"{base}{PREFIX}/jobs/{found.jobtoken}/download/{f.filename}"
                        ],
                    }
                    for f in shown
                ],
            }
        )

    def job_error(self, request: Request) -> Response:
        found = self._job(request)
        if isinstance(found, Response):
            return found
        if found.state != "failed":
            return _error(404, f"job {found.jobtoken} has not failed (it is {found.state})")
        return JSONResponse({"jobtoken": found.jobtoken, "error": found.error})

    def job_download(self, request: Request) -> Response:
        found = self._job(request)
        if isinstance(found, Response):
            return found
        try:
            path = self.jobs.result_path(found, request.path_params["filename"])
        except NotFound as exc:
            return _error(404, str(exc))
        return FileResponse(path, filename=path.name)

    # helpers

    def _job(self, request: Request) -> Job | Response:
        principal = principal_from_request(request, self._catalog)
        if principal.anonymous:
            return _unauthorized()
        try:
            job = self.jobs.get(request.path_params["token"])
        except NotFound:
            return _error(404, "no such job")
        return job if _may_see(principal, job) else _error(404, "no such job")

    def _visible(self, principal: Principal, slug: str) -> Collection | None:
        try:
            collection = self._catalog.get_collection(slug)
        except NotFound:
            return None
        return collection if can_view(principal, collection) else None

    def _first_date(self, slug: str, filename: str, fallback: datetime) -> datetime:
        """When the file's first record was captured (cached per file and size)."""
        try:
            path = warc_path(self._settings, slug, filename)
            key = (str(path), path.stat().st_size)
        except (VellumError, OSError):
            return fallback
        if key not in self._first_dates:
            when = fallback
            try:
                for item in scan(path):
                    if isinstance(item, Entry) and item.timestamp:
                        when = from_timestamp(item.timestamp)
                        break
            except VellumError:
                pass
            self._first_dates[key] = when.astimezone(UTC)
        return self._first_dates[key]


def _may_see(principal: Principal, job: Job) -> bool:
    return (
        principal.admin
        or (principal.user is not None and principal.user == job.owner)
        or bool(principal.organizations & set(job.organizations))
    )


def _paging(request: Request) -> tuple[int, int]:
    query = parse_webdata_query(
        [(k, v) for k, v in request.query_params.multi_items() if k in ("page", "page_size")]
    )
    return query.page, query.page_size or DEFAULT_PAGE_SIZE


def _page_url(request: Request, page: int) -> str:
    return str(request.url.include_query_params(page=page))


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"status": status, "detail": reason}, status_code=status)


def _unauthorized() -> JSONResponse:
    response = _error(401, "authentication required: send Authorization: Bearer <API token>")
    response.headers["WWW-Authenticate"] = 'Bearer realm="vellum"'
    return response
