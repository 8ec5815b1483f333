"""Server-side log-in sessions: the browser holds a random id, the catalog its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from vellum.catalog import Catalog
from vellum.catalog.models import LoginSessionRow
from vellum.catalog.users import User, user_by_id
from vellum.clock import Clock, system_clock

SESSION_COOKIE = "vellum_session"
LIFETIME = timedelta(days=7)
_ID_MAX = 100  # ids we hand out are 43 characters; anything far longer is not ours


@dataclass(frozen=True)
class LoginSession:
    """A logged-in browser: whose it is, the CSRF token of its forms, when it ends."""

    user: User
    csrf: str
    expires: datetime


class Sessions:
    """Create, look up and end log-in sessions."""

    def __init__(
        self, catalog: Catalog, clock: Clock = system_clock, lifetime: timedelta = LIFETIME
    ) -> None:
        self._catalog = catalog
        self._clock = clock
        self.lifetime = lifetime

    def create(self, user: User) -> tuple[str, LoginSession]:
        """A new session for `user`: the id for the cookie, and the session."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        row = LoginSessionRow(
            digest=_digest(session_id),
            user_id=user.id,
            csrf=secrets.token_urlsafe(32),
            created=now,
            expires=now + self.lifetime,
        )
        with self._catalog.transaction() as s:
            s.execute(delete(LoginSessionRow).where(LoginSessionRow.expires <= now))
            s.add(row)
        return session_id, LoginSession(user, row.csrf, row.expires)

    def get(self, session_id: str) -> LoginSession | None:
        """The live session with this id, or None (unknown, malformed or expired)."""
        if not session_id or len(session_id) > _ID_MAX:
            return None
        with self._catalog.transaction() as s:
            row = s.get(LoginSessionRow, _digest(session_id))
            if row is None:
                return None
            expires = _aware(row.expires)
            if expires <= self._clock():
                s.delete(row)
                return None
            user = user_by_id(s, row.user_id)
            return LoginSession(user, row.csrf, expires) if user is not None else None

    def delete(self, session_id: str) -> None:
        """End one session (log-out); an unknown id is not an error."""
        if session_id and len(session_id) <= _ID_MAX:
            with self._catalog.transaction() as s:
                s.execute(
                    delete(LoginSessionRow).where(LoginSessionRow.digest == _digest(session_id))
                )

    def delete_for_user(self, user: User) -> None:
        """End every session of `user` (after a password change)."""
        with self._catalog.transaction() as s:
            s.execute(delete(LoginSessionRow).where(LoginSessionRow.user_id == user.id))


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogateescape")).hexdigest()


def _aware(at: datetime) -> datetime:
    """SQLite drops time zones; every stored time is UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
