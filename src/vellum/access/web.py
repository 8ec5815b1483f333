"""Who is asking, read off an HTTP request."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from vellum.access.policy import ANONYMOUS, Principal
from vellum.catalog import Catalog


def principal_from_request(request: HTTPConnection, catalog: Catalog) -> Principal:
    """The principal of a request: the holder of a valid API token, else anonymous.

    A token comes as `Authorization: Bearer <token>`. An unknown or malformed token
    is treated as no token at all, so it reveals nothing about private collections.
    """
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
