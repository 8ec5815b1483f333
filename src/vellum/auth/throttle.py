"""Throttling of failed log-ins, per account and per client address.

Failures are rows in the catalog, so a restart or a second web worker does not reset
them. Once `limit` failures fall within `window`, the key is locked until the oldest of
those leaves the window; while locked no password is even checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from vellum.catalog import Catalog
from vellum.catalog.models import LoginFailureRow
from vellum.clock import Clock, system_clock


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures within which window lock an account or an address."""

    account_limit: int = 5
    address_limit: int = 20
    window: timedelta = timedelta(minutes=15)


class LoginThrottle:
    """Count failed log-ins and tell until when an account or address is locked."""

    def __init__(
        self, catalog: Catalog, clock: Clock = system_clock, policy: ThrottlePolicy | None = None
    ) -> None:
        self._catalog = catalog
        self._clock = clock
        self.policy = policy or ThrottlePolicy()

    def locked_until(self, name: str, address: str) -> datetime | None:
        """When the later of the account's and the address's locks ends, or None."""
        p = self.policy
        ends = [
            self._lock_end(_account(name), p.account_limit),
            self._lock_end(_address(address), p.address_limit),
        ]
        found = [end for end in ends if end is not None]
        return max(found) if found else None

    def failed(self, name: str, address: str) -> None:
        """Count one failed log-in against both the account and the address."""
        now = self._clock()
        with self._catalog.transaction() as s:
            cutoff = now - self.policy.window
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.at <= cutoff))
            s.add(LoginFailureRow(key=_account(name), at=now))
            s.add(LoginFailureRow(key=_address(address), at=now))

    def succeeded(self, name: str) -> None:
        """Forget the account's failures (the address's stay counted)."""
        with self._catalog.transaction() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.key == _account(name)))

    def _lock_end(self, key: str, limit: int) -> datetime | None:
        now = self._clock()
        with self._catalog.transaction() as s:
            query = (
                select(LoginFailureRow.at)
                .where(LoginFailureRow.key == key, LoginFailureRow.at > now - self.policy.window)
                .order_by(LoginFailureRow.at.desc())
                .offset(limit - 1)
                .limit(1)
            )
            at = s.scalars(query).first()
        if at is None:
            return None
        end = _aware(at) + self.policy.window
        return end if end > now else None


def _account(name: str) -> str:
    return "user:" + name.strip().lower()[:150]


def _address(address: str) -> str:
    return "addr:" + address[:150]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
