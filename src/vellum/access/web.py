"""Who is asking, read off an HTTP request."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from vellum.access.policy import ANONYMOUS, Principal
from vellum.auth.sessions import SESSION_COOKIE, Sessions
from vellum.catalog import Catalog

# Where `web.grants.GrantReader` puts the principal of a valid replay grant: set by the
# server only, for the collection of the request's own path (see web/grants.py).
GRANT_SCOPE = "vellum.grant"


def principal_from_request(request: HTTPConnection, catalog: Catalog) -> Principal:
    """The principal of a request: a logged-in user, the holder of an API token, or anonymous.

    A user comes as the session cookie set by `/login`; a token as
    `Authorization: Bearer <token>`; on the replay origin, a member of a private
    collection comes as a replay grant for that collection only. An unknown, expired or
    malformed session or token is treated as none at all, so it reveals nothing about
    private collections.
    """
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if session_id:
        session = Sessions(catalog).get(session_id)
        if session is not None:
            user = session.user
            return Principal(user=user.name, admin=user.admin, organizations=user.organizations)
    granted = request.scope.get(GRANT_SCOPE)
    if isinstance(granted, Principal):
        return granted
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return ANONYMOUS
    organization = catalog.organization_for_token(token)
    if organization is None:
        return ANONYMOUS
    return Principal(
        user=f"token:{organization.acronym}", organizations=frozenset({organization.id})
    )
