"""Posted forms of the seed and job pages: URL-encoded or multipart (a CSV upload), CSRF-checked.

The log-in forms' reader (`vellum.auth.forms.read_form`) is kept small on purpose; a
seed list pasted or uploaded needs more room, and a file upload is multipart. The CSRF
rule is the same: the session's token in the `csrf_token` field, or 403.
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP

from starlette.requests import Request

from vellum.auth.forms import FormError, check_csrf, parse_urlencoded, read_body
from vellum.auth.guard import expected_token
from vellum.auth.sessions import LoginSession

FORM_MAX = 2 * 1024 * 1024  # a seed list of a few thousand URLs
FIELDS_MAX = 60


async def posted(request: Request, session: LoginSession | None) -> dict[str, str]:
    """The fields of a posted form whose CSRF token is right (files as text); else FormError."""
    body = await read_body(request, FORM_MAX)
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        fields: dict[str, str] = {}
    elif kind == "application/x-www-form-urlencoded":
        fields = parse_urlencoded(body, FIELDS_MAX)
    elif kind == "multipart/form-data":
        fields = _multipart(content_type, body)
    else:
        raise FormError(415, "This form must be sent as a web form.")
    check_csrf(expected_token(request, session), fields)
    return fields


def _multipart(content_type: str, body: bytes) -> dict[str, str]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise FormError(400, "The form could not be read (a broken upload).")
    fields: dict[str, str] = {}
    for number, part in enumerate(message.iter_parts()):
        if number >= FIELDS_MAX:
            raise FormError(400, "The form has too many fields.")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        raw = data if isinstance(data, bytes) else b""
        try:
            fields.setdefault(name, raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise FormError(400, f"The file or field {name!r} is not UTF-8 text.") from None
    return fields
