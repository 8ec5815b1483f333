"""Seed pages: /admin/collections/{slug}/seeds — list, add one, add in bulk, edit, remove."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vellum.auth.sessions import LoginSession
from vellum.capture.scope import DEFAULT_MAX_HOPS, SCOPE_TYPES
from vellum.catalog import Catalog, Collection
from vellum.catalog.seeds import DC_ELEMENTS, LIMIT_NAMES, SeedRules, Seeds, StoredSeed
from vellum.clock import Clock
from vellum.errors import InvalidInput, NotFound, VellumError
from vellum.jobs.frequency import FREQUENCIES
from vellum.jobs.queue import JobQueue
from vellum.jobs.seedlist import BulkResult, add_seed_list
from vellum.web.jobs.common import HEADERS, Denied, Pages
from vellum.web.jobs.forms import posted


class SeedPages(Pages):
    def __init__(self, catalog: Catalog, clock: Clock) -> None:
        super().__init__(catalog)
        self._seeds = Seeds(catalog, clock)
        self._clock = clock

    async def list(self, request: Request) -> Response:
        session, collection = await self.managed(request, request.path_params["slug"])
        if request.method == "POST":
            fields = await posted(request, session)
            try:
                await run_in_threadpool(self._add_one, collection, fields)
            except VellumError as exc:
                return await self._list(
                    request, session, collection, 400, error=str(exc), form=fields
                )
            return _see(request, f"/admin/collections/{collection.slug}/seeds?added=1")
        return await self._list(request, session, collection)

    async def bulk(self, request: Request) -> Response:
        session, collection = await self.managed(request, request.path_params["slug"])
        fields = await posted(request, session)
        text = fields.get("file", "") or fields.get("urls", "")
        try:
            if not text.strip():
                raise InvalidInput("paste some URLs or choose a CSV file")
            result = await run_in_threadpool(
                add_seed_list,
                self._seeds,
                collection.slug,
                text,
                fields.get("scope", "host"),
                fields.get("frequency", "one-time"),
            )
        except VellumError as exc:
            return await self._list(request, session, collection, 400, bulk_error=str(exc))
        status = 400 if result.bad else 200
        return await self._list(request, session, collection, status, bulk=result)

    async def edit(self, request: Request) -> Response:
        session, collection = await self.managed(request, request.path_params["slug"])
        seed = await self._seed(collection, request.path_params["seed_id"])
        if request.method == "GET":
            return self._edit_page(session, collection, seed)
        fields = await posted(request, session)
        try:
            changed = await run_in_threadpool(self._save, seed, fields)
        except VellumError as exc:
            return self._edit_page(session, collection, seed, str(exc), fields, 400)
        return _see(request, f"/admin/collections/{collection.slug}/seeds?saved={changed.id}")

    async def remove(self, request: Request) -> Response:
        session, collection = await self.managed(request, request.path_params["slug"])
        seed = await self._seed(collection, request.path_params["seed_id"])
        await posted(request, session)
        await run_in_threadpool(self._seeds.remove, seed.id)
        return _see(request, f"/admin/collections/{collection.slug}/seeds?removed={seed.id}")

    async def crawl(self, request: Request) -> Response:
        """Crawl now: the whole collection, or one seed; a test crawl if asked."""
        session, collection = await self.managed(request, request.path_params["slug"])
        seed_ids = None
        if "seed_id" in request.path_params:
            seed_ids = [(await self._seed(collection, request.path_params["seed_id"])).id]
        fields = await posted(request, session)
        queue = JobQueue(self.catalog, self._clock)
        try:
            job = await run_in_threadpool(
                lambda: queue.enqueue(
                    collection.slug,
                    seed_ids,
                    test=fields.get("test") == "1",
                    requested_by=session.user.name,
                )
            )
        except VellumError as exc:
            return await self._list(request, session, collection, 409, error=str(exc))
        return _see(request, f"/admin/jobs/{job.id}")

    # helpers

    async def _seed(self, collection: Collection, raw_id: str) -> StoredSeed:
        if not raw_id.isdigit() or len(raw_id) > 12:
            raise Denied
        try:
            seed = await run_in_threadpool(self._seeds.get, int(raw_id))
        except NotFound:
            raise Denied from None
        if seed.collection_slug != collection.slug:
            raise Denied
        return seed

    def _add_one(self, collection: Collection, fields: dict[str, str]) -> StoredSeed:
        url = fields.get("url", "")
        rules = _rules(fields)
        return self._seeds.add(
            collection.slug,
            url,
            fields.get("scope", "host"),
            fields.get("frequency", "one-time"),
            rules,
            fields.get("notes", ""),
        )

    def _save(self, seed: StoredSeed, fields: dict[str, str]) -> StoredSeed:
        dublin_core = {e: fields.get(f"dc_{e}", "").split(";") for e in DC_ELEMENTS}
        return self._seeds.update(
            seed.id,
            scope=fields.get("scope", seed.scope),
            frequency=fields.get("frequency", seed.frequency),
            rules=_rules(fields),
            notes=fields.get("notes", ""),
            active=fields.get("active") == "1",
            dublin_core=dublin_core,
        )

    async def _list(
        self,
        request: Request,
        session: LoginSession,
        collection: Collection,
        status: int = 200,
        *,
        error: str = "",
        form: dict[str, str] | None = None,
        bulk: BulkResult | None = None,
        bulk_error: str = "",
    ) -> Response:
        seeds = await run_in_threadpool(self._seeds.of, collection.slug)
        notice = ""
        q = request.query_params
        if q.get("added"):
            notice = "Seed added."
        elif q.get("saved", "").isdigit():
            notice = f"Seed {q['saved']} saved."
        elif q.get("removed", "").isdigit():
            notice = f"Seed {q['removed']} removed (its crawls and WARC files stay)."
        return self.render(
            "seeds.html",
            session,
            status,
            collection=collection,
            seeds=seeds,
            scopes=SCOPE_TYPES,
            frequencies=FREQUENCIES,
            error=error,
            form=form or {},
            bulk=bulk,
            bulk_error=bulk_error,
            notice=notice,
            default_hops=DEFAULT_MAX_HOPS,
        )

    def _edit_page(
        self,
        session: LoginSession,
        collection: Collection,
        seed: StoredSeed,
        error: str = "",
        form: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        values = form or _fields_of(seed)
        return self.render(
            "seed_edit.html",
            session,
            status,
            collection=collection,
            seed=seed,
            form=values,
            scopes=SCOPE_TYPES,
            frequencies=FREQUENCIES,
            dc_elements=DC_ELEMENTS,
            limit_names=LIMIT_NAMES,
            error=error,
        )


def _rules(fields: dict[str, str]) -> SeedRules:
    """Rules from a form: patterns one a line, limits as numbers (blank: none)."""

    def lines(name: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in fields.get(name, "").splitlines() if v.strip())

    hops = fields.get("max_hops", "").strip() or str(DEFAULT_MAX_HOPS)
    if not hops.isdigit() or len(hops) > 6:
        raise InvalidInput(f"max hops must be a whole number of 0 or more, not {hops[:20]!r}")
    limits: dict[str, float | None] = {}
    for name in LIMIT_NAMES:
        raw = fields.get(f"limit_{name}", "").strip()
        if not raw:
            continue
        try:
            limits[name] = float(raw) if name == "seconds" else int(raw)
        except ValueError:
            raise InvalidInput(f"the {name} limit must be a number, not {raw[:20]!r}") from None
    return SeedRules(
        include=lines("include"),
        exclude=lines("exclude"),
        include_re=lines("include_re"),
        exclude_re=lines("exclude_re"),
        max_hops=int(hops),
        limits=limits,
    )


def _fields_of(seed: StoredSeed) -> dict[str, str]:
    r = seed.rules
    values = {
        "scope": seed.scope,
        "frequency": seed.frequency,
        "notes": seed.notes,
        "active": "1" if seed.active else "",
        "include": "\n".join(r.include),
        "exclude": "\n".join(r.exclude),
        "include_re": "\n".join(r.include_re),
        "exclude_re": "\n".join(r.exclude_re),
        "max_hops": str(r.max_hops),
    }
    for name in LIMIT_NAMES:
        value = r.limits.get(name)
        values[f"limit_{name}"] = "" if value is None else f"{value:g}"
    for element in DC_ELEMENTS:
        values[f"dc_{element}"] = "; ".join(seed.dublin_core.get(element, []))
    return values


def _see(request: Request, path: str) -> Response:
    return RedirectResponse(path, status_code=303, headers=HEADERS)
