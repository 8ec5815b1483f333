"""Admin pages for organizations and users (site administrators only)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from vellum.catalog.memberships import remove_membership, set_admin
from vellum.catalog.organizations import (
    ACRONYM_MAX,
    CONTACT_MAX,
    LOGO_MAX,
    NAME_MAX,
    OrganizationFields,
    Organizations,
)
from vellum.catalog.users import NAME_MAX as USER_NAME_MAX
from vellum.catalog.users import PASSWORD_MAX, ROLES, Users
from vellum.errors import VellumError
from vellum.web.admin.render import AdminBase, Asker

__all__ = ["PeoplePages"]

_LIMITS = {
    "name_max": NAME_MAX,
    "acronym_max": ACRONYM_MAX,
    "contact_max": CONTACT_MAX,
    "logo_max": LOGO_MAX,
}


class PeoplePages:
    """Organizations: list, create, edit, delete. Users: list, create, admin, roles."""

    def __init__(self, base: AdminBase) -> None:
        self._base = base
        self._orgs = Organizations(base.catalog)
        self._users = Users(base.catalog)

    async def _admin(self, request: Request) -> Asker | Response:
        asker = await self._base.asker(request)
        if isinstance(asker, Asker) and not asker.admin:
            return self._base.forbidden()
        return asker

    async def _admin_form(self, request: Request) -> tuple[Asker, dict[str, str]] | Response:
        got = await self._base.form(request)
        if isinstance(got, tuple) and not got[0].admin:
            return self._base.forbidden()
        return got

    # organizations

    async def organizations(self, request: Request) -> Response:
        asker = await self._admin(request)
        if not isinstance(asker, Asker):
            return asker
        return self._base.render("organizations.html", asker=asker, organizations=self._orgs.list())

    async def new_organization(self, request: Request) -> Response:
        if request.method == "GET":
            asker = await self._admin(request)
            if not isinstance(asker, Asker):
                return asker
            return self._org_form(asker, None, OrganizationFields("", ""))
        got = await self._admin_form(request)
        if not isinstance(got, tuple):
            return got
        asker, fields = got
        entered = _org_fields(fields)
        try:
            created = self._orgs.create(entered)
        except VellumError as exc:
            return self._org_form(asker, None, entered, str(exc), 400)
        return self._base.redirect(f"/admin/organizations/{created.id}?saved=1")

    async def edit_organization(self, request: Request) -> Response:
        org_id = request.path_params["id"]
        if request.method == "GET":
            asker = await self._admin(request)
            if not isinstance(asker, Asker):
                return asker
            try:
                org = self._orgs.get(org_id)
            except VellumError:
                return self._base.not_found()
            entered = OrganizationFields(org.name, org.acronym, org.contact, org.logo_url)
            saved = "Saved." if request.query_params.get("saved") else ""
            return self._org_form(asker, org_id, entered, notice=saved)
        got = await self._admin_form(request)
        if not isinstance(got, tuple):
            return got
        asker, fields = got
        entered = _org_fields(fields)
        try:
            self._orgs.update(org_id, entered)
        except VellumError as exc:
            return self._org_form(asker, org_id, entered, str(exc), 400)
        return self._base.redirect(f"/admin/organizations/{org_id}?saved=1")

    async def delete_organization(self, request: Request) -> Response:
        got = await self._admin_form(request)
        if not isinstance(got, tuple):
            return got
        asker = got[0]
        try:
            gone = self._orgs.delete(request.path_params["id"])
        except VellumError as exc:
            return self._base.message("Organization not deleted", str(exc), 409, asker=asker)
        return self._base.message(
            "Organization deleted", f"The organization {gone.name} was deleted.", asker=asker
        )

    def _org_form(
        self,
        asker: Asker,
        org_id: int | None,
        entered: OrganizationFields,
        error: str = "",
        status: int = 200,
        notice: str = "",
    ) -> Response:
        org = None
        if org_id is not None:
            try:
                org = self._orgs.get(org_id)
            except VellumError:
                return self._base.not_found()
        return self._base.render(
            "organization_form.html",
            status,
            asker=asker,
            org=org,
            entered=entered,
            error=error,
            notice=notice,
            **_LIMITS,
        )

    # users

    async def users(self, request: Request) -> Response:
        asker = await self._admin(request)
        if not isinstance(asker, Asker):
            return asker
        return self._base.render("users.html", asker=asker, users=self._users.users())

    async def new_user(self, request: Request) -> Response:
        if request.method == "GET":
            asker = await self._admin(request)
            if not isinstance(asker, Asker):
                return asker
            return self._user_form(asker)
        got = await self._admin_form(request)
        if not isinstance(got, tuple):
            return got
        asker, fields = got
        name = fields.get("name", "").strip()
        password = fields.get("password", "")
        if password != fields.get("repeat", ""):
            return self._user_form(asker, name, "The two passwords are not the same.", 400)
        try:
            user = await run_in_threadpool(
                self._users.create, name, password, fields.get("admin") == "on"
            )
        except VellumError as exc:
            return self._user_form(asker, name, str(exc), 400)
        return self._base.redirect(f"/admin/users/{quote(user.name)}")

    def _user_form(
        self, asker: Asker, name: str = "", error: str = "", status: int = 200
    ) -> Response:
        return self._base.render(
            "user_form.html",
            status,
            asker=asker,
            name=name[:USER_NAME_MAX],
            error=error,
            name_max=USER_NAME_MAX,
            password_max=PASSWORD_MAX,
        )

    async def user(self, request: Request) -> Response:
        asker = await self._admin(request)
        if not isinstance(asker, Asker):
            return asker
        return self._user_page(asker, request.path_params["name"])

    def _user_page(self, asker: Asker, name: str, error: str = "", status: int = 200) -> Response:
        try:
            user = self._users.get(name)
        except VellumError:
            return self._base.not_found()
        return self._base.render(
            "user.html",
            status,
            asker=asker,
            user=user,
            organizations=self._orgs.list(),
            roles=ROLES,
            error=error,
        )

    async def set_admin(self, request: Request) -> Response:
        got = await self._admin_form(request)
        if not isinstance(got, tuple):
            return got
        asker, fields = got
        name = request.path_params["name"]
        try:
            set_admin(self._base.catalog, name, fields.get("admin") == "yes")
        except VellumError as exc:
            return self._user_page(asker, name, str(exc), 400)
        return self._base.redirect(f"/admin/users/{quote(name)}")

    async def add_membership(self, request: Request) -> Response:
        got = await self._admin_form(request)
        if not isinstance(got, tuple):
            return got
        asker, fields = got
        name = request.path_params["name"]
        org_id = fields.get("organization", "")
        try:
            if not org_id.isdigit():
                raise VellumError("choose an organization")
            org = self._orgs.get(int(org_id))
            self._users.add_membership(name, org.acronym, fields.get("role", ""))
        except VellumError as exc:
            return self._user_page(asker, name, str(exc), 400)
        return self._base.redirect(f"/admin/users/{quote(name)}")

    async def remove_membership(self, request: Request) -> Response:
        got = await self._admin_form(request)
        if not isinstance(got, tuple):
            return got
        asker, fields = got
        name = request.path_params["name"]
        org_id = fields.get("organization", "")
        try:
            if not org_id.isdigit():
                raise VellumError("choose an organization")
            remove_membership(self._base.catalog, name, int(org_id))
        except VellumError as exc:
            return self._user_page(asker, name, str(exc), 400)
        return self._base.redirect(f"/admin/users/{quote(name)}")


def _org_fields(fields: dict[str, str]) -> OrganizationFields:
    return OrganizationFields(
        fields.get("name", ""),
        fields.get("acronym", ""),
        fields.get("contact", ""),
        fields.get("logo_url", ""),
    )
