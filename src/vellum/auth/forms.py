"""Reading posted forms safely: size limits, strict decoding and the CSRF token check.

Every form of the service carries a per-session token in the field `csrf_token`; a
POST whose token is missing or wrong is refused with 403 before anything is changed.
Before log-in, the token is the value of the `vellum_csrf` cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qsl

from starlette.requests import Request

CSRF_FIELD = "csrf_token"
CSRF_COOKIE = "vellum_csrf"
FORM_MAX = 16 * 1024  # bytes of a posted form; the auth forms need far less
_FIELDS_MAX = 20


class FormError(Exception):
    """A form that cannot be used: the HTTP status to answer and the reason, for people."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form (first value of each), or FormError."""
    body = await read_body(request, FORM_MAX)
    if not body:
        return {}  # no fields at all (so no CSRF token either)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError(415, "This form must be sent as application/x-www-form-urlencoded.")
    return parse_urlencoded(body, _FIELDS_MAX)


async def read_body(request: Request, limit: int) -> bytes:
    """A posted body of at most `limit` bytes (413 beyond, declared or sent)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FormError(413, f"The form is too large (more than {limit} bytes).")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise FormError(413, f"The form is too large (more than {limit} bytes).")
    return bytes(body)


def parse_urlencoded(body: bytes, max_fields: int) -> dict[str, str]:
    """The fields of a URL-encoded body, first value of each (400 when unreadable)."""
    try:
        pairs = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            max_num_fields=max_fields,
            encoding="utf-8",
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError):
        raise FormError(
            400, "The form could not be read (bad encoding or too many fields)."
        ) from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def check_csrf(expected: str | None, fields: dict[str, str]) -> None:
    """Refuse (403) a form whose CSRF token is missing or is not `expected`."""
    given = fields.get(CSRF_FIELD, "")
    if not given:
        raise FormError(
            403, "This form has no security token. Reload the page and send the form again."
        )
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise FormError(
            403,
            "This form's security token is wrong or has expired. "
            "Reload the page and send the form again.",
        )


def new_token() -> str:
    """A fresh random token for the CSRF cookie."""
    return secrets.token_urlsafe(32)
