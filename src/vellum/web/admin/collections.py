"""Admin pages for collections: create, edit (Dublin Core, embargo), exclusions, delete.

A collection is managed by a curator of its organization or a site administrator;
for anyone else its admin pages answer 404, as for a collection that does not exist.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from vellum.catalog.collections import (
    DC_ELEMENTS,
    DC_VALUE_MAX,
    DESCRIPTION_MAX,
    EMBARGO_MAX,
    TITLE_MAX,
    CollectionFields,
    CollectionRecord,
    Collections,
)
from vellum.catalog.exclusions import KINDS, REASON_MAX, URL_MAX, Exclusions
from vellum.catalog.organizations import Organizations
from vellum.errors import NotFound, VellumError
from vellum.web.admin.render import AdminBase, Asker

__all__ = ["CollectionPages"]

_LIMITS = {
    "title_max": TITLE_MAX,
    "description_max": DESCRIPTION_MAX,
    "dc_value_max": DC_VALUE_MAX,
    "embargo_max": EMBARGO_MAX,
    "url_max": URL_MAX,
    "reason_max": REASON_MAX,
}


class CollectionPages:
    """The admin index and every page of one collection."""

    def __init__(self, base: AdminBase) -> None:
        self._base = base
        self._collections = Collections(base.catalog)
        self._orgs = Organizations(base.catalog)
        self._exclusions = Exclusions(base.catalog)

    async def to_index(self, request: Request) -> Response:
        return self._base.redirect("/admin/")

    async def index(self, request: Request) -> Response:
        asker = await self._base.asker(request)
        if not isinstance(asker, Asker):
            return asker
        mine = [c for c in self._collections.list() if asker.manages(c.organization_id)]
        return self._base.render(
            "index.html", asker=asker, collections=mine, can_create=bool(self._owners(asker))
        )

    async def new(self, request: Request) -> Response:
        if request.method == "GET":
            asker = await self._base.asker(request)
            if not isinstance(asker, Asker):
                return asker
            if not self._owners(asker):
                return self._base.not_found()
            return self._form(asker, None, "", CollectionFields("", ""))
        got = await self._base.form(request)
        if not isinstance(got, tuple):
            return got
        asker, fields = got
        if not self._owners(asker):
            return self._base.not_found()
        slug = fields.get("slug", "").strip()
        entered = _collection_fields(fields)
        try:
            entered = self._owned(asker, entered)
            created = self._collections.create(slug, entered)
        except VellumError as exc:
            return self._form(asker, None, slug, entered, str(exc), 400)
        return self._base.redirect(f"/admin/collections/{created.slug}?saved=1")

    async def edit(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        if request.method == "GET":
            asker = await self._base.asker(request)
            if not isinstance(asker, Asker):
                return asker
            record = self._managed(asker, slug)
            if record is None:
                return self._base.not_found()
            entered = _as_entered(record)
            notice = "Saved." if request.query_params.get("saved") else ""
            return self._form(asker, record, slug, entered, notice=notice)
        got = await self._base.form(request)
        if not isinstance(got, tuple):
            return got
        asker, fields = got
        record = self._managed(asker, slug)
        if record is None:
            return self._base.not_found()
        entered = _collection_fields(fields)
        try:
            entered = self._owned(asker, entered)
            self._collections.update(slug, entered)
        except VellumError as exc:
            return self._form(asker, record, slug, entered, str(exc), 400)
        return self._base.redirect(f"/admin/collections/{slug}?saved=1")

    async def add_exclusion(self, request: Request) -> Response:
        got = await self._base.form(request)
        if not isinstance(got, tuple):
            return got
        asker, fields = got
        slug = request.path_params["slug"]
        record = self._managed(asker, slug)
        if record is None:
            return self._base.not_found()
        kind = fields.get("kind", "url")
        target, reason = fields.get("target", ""), fields.get("reason", "")
        try:
            self._exclusions.add(slug, kind, target, reason, by=asker.name)
        except VellumError as exc:
            entered = _as_entered(record)
            excluded = {"kind": kind, "target": target, "reason": reason}
            return self._form(
                asker, record, slug, entered, excl_error=str(exc), status=400, excluded=excluded
            )
        return self._base.redirect(f"/admin/collections/{slug}?excluded=1#exclusions")

    async def remove_exclusion(self, request: Request) -> Response:
        got = await self._base.form(request)
        if not isinstance(got, tuple):
            return got
        asker = got[0]
        slug = request.path_params["slug"]
        if self._managed(asker, slug) is None:
            return self._base.not_found()
        try:
            exclusion = self._exclusions.get(request.path_params["id"])
        except NotFound:
            return self._base.not_found()
        if exclusion.collection_slug != slug:
            return self._base.not_found()
        self._exclusions.remove(exclusion.id)
        return self._base.redirect(f"/admin/collections/{slug}#exclusions")

    async def delete(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        if request.method == "GET":
            asker = await self._base.asker(request)
            if not isinstance(asker, Asker):
                return asker
            record = self._managed(asker, slug)
            if record is None:
                return self._base.not_found()
            return self._base.render("delete.html", asker=asker, record=record)
        got = await self._base.form(request)
        if not isinstance(got, tuple):
            return got
        asker, fields = got
        record = self._managed(asker, slug)
        if record is None:
            return self._base.not_found()
        if fields.get("confirm", "").strip() != slug:
            error = f"Type the collection's slug, {slug}, to confirm."
            return self._base.render("delete.html", 400, asker=asker, record=record, error=error)
        try:
            moved = self._collections.delete(slug, self._base.settings.data_dir)
        except (VellumError, OSError) as exc:
            return self._base.message("Collection not deleted", str(exc), 500, asker=asker)
        return self._base.render(
            "deleted.html", asker=asker, record=record, moved=str(moved) if moved else ""
        )

    # helpers

    def _owners(self, asker: Asker) -> list[tuple[int, str, str]]:
        """(id, acronym, name) of the organizations this person may create collections for."""
        return [(o.id, o.acronym, o.name) for o in self._orgs.list() if asker.manages(o.id)]

    def _owned(self, asker: Asker, entered: CollectionFields) -> CollectionFields:
        """`entered` if its organization is one the asker manages (else VellumError)."""
        key = entered.organization.strip()
        for org_id, acronym, _ in self._owners(asker):
            if key in (str(org_id), acronym):
                return CollectionFields(
                    entered.title,
                    acronym,
                    entered.description,
                    entered.public,
                    entered.dublin_core,
                    entered.embargo_days,
                )
        raise VellumError("choose an organization you manage")

    def _managed(self, asker: Asker, slug: str) -> CollectionRecord | None:
        try:
            record = self._collections.get(slug)
        except NotFound:
            return None
        return record if asker.manages(record.organization_id) else None

    def _form(
        self,
        asker: Asker,
        record: CollectionRecord | None,
        slug: str,
        entered: CollectionFields,
        error: str = "",
        status: int = 200,
        notice: str = "",
        excl_error: str = "",
        excluded: dict[str, str] | None = None,
    ) -> Response:
        exclusions = self._exclusions.list(slug) if record is not None else []
        return self._base.render(
            "collection_form.html",
            status,
            asker=asker,
            record=record,
            slug=slug,
            entered=entered,
            owners=self._owners(asker),
            dc_elements=DC_ELEMENTS,
            error=error,
            notice=notice,
            exclusions=exclusions,
            kinds=KINDS,
            excl_error=excl_error,
            excluded=excluded or {"kind": "url", "target": "", "reason": ""},
            **_LIMITS,
        )


def _collection_fields(fields: dict[str, str]) -> CollectionFields:
    embargo = fields.get("embargo_days", "0").strip() or "0"
    dc = {e: tuple(fields.get(e, "").splitlines()) for e in DC_ELEMENTS}
    return CollectionFields(
        title=fields.get("title", ""),
        organization=fields.get("organization", ""),
        description=fields.get("description", ""),
        public=fields.get("public", "") == "yes",
        dublin_core=dc,
        embargo_days=int(embargo) if embargo.isdigit() and len(embargo) < 7 else -1,
    )


def _as_entered(record: CollectionRecord) -> CollectionFields:
    return CollectionFields(
        record.title,
        record.organization,
        record.description,
        record.public,
        record.dublin_core,
        record.embargo_days,
    )
