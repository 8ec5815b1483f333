"""Users of the service, their passwords (argon2id) and their roles in organizations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from vellum.catalog.catalog import Catalog, Organization
from vellum.catalog.models import LoginSessionRow, MembershipRow, UserRow
from vellum.clock import Clock, system_clock
from vellum.errors import InvalidInput, NotFound, VellumError

ROLES = ("curator", "viewer")
NAME_MAX = 64
PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # argon2 takes any length; a bound keeps a log-in cheap to refuse
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")


@dataclass(frozen=True)
class Membership:
    """A user's role in one organization."""

    organization: Organization
    role: str  # curator or viewer


@dataclass(frozen=True)
class User:
    """A person who logs in; never carries the password hash out of this module."""

    id: int
    name: str
    admin: bool
    memberships: tuple[Membership, ...]

    @property
    def organizations(self) -> frozenset[int]:
        """Ids of the organizations whose private collections this user sees."""
        return frozenset(m.organization.id for m in self.memberships if m.role in ROLES)


def check_name(name: str) -> str:
    """A valid user name (stripped), or InvalidInput saying what is wrong."""
    name = name.strip()
    if not name:
        raise InvalidInput("a user name is required")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"a user name has at most {NAME_MAX} characters")
    if not _NAME.match(name):
        raise InvalidInput(
            "a user name may hold only letters, digits and . _ @ -, starting with a letter or digit"
        )
    return name


def check_password(password: str) -> None:
    """Refuse a password that is too short or too long, saying which."""
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(f"a password needs at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"a password has at most {PASSWORD_MAX} characters")


class Users:
    """Create users, set and verify passwords, grant roles, list them."""

    def __init__(
        self, catalog: Catalog, hasher: PasswordHasher | None = None, clock: Clock = system_clock
    ) -> None:
        self._catalog = catalog
        self._hasher = hasher or PasswordHasher()
        self._clock = clock
        self._dummy: str | None = None

    def create(self, name: str, password: str, admin: bool = False) -> User:
        """Add a user; the name must be new (ignoring case)."""
        name = check_name(name)
        check_password(password)
        digest = self._hasher.hash(password)
        with self._catalog.transaction() as s:
            if _find(s, name) is not None:
                raise VellumError(f"a user named {name!r} already exists")
            row = UserRow(name=name, password_hash=digest, admin=admin, created=self._clock())
            s.add(row)
            s.flush()
            return _user(row)

    def get(self, name: str) -> User:
        """The user with this name (ignoring case)."""
        with self._catalog.transaction() as s:
            row = _find(s, name.strip())
            if row is None:
                raise NotFound(f"no user named {name!r} (see 'vellum user list')")
            return _user(row)

    def users(self) -> list[User]:
        """Every user, by name."""
        with self._catalog.transaction() as s:
            query = select(UserRow).order_by(UserRow.name).options(_memberships())
            return [_user(r) for r in s.scalars(query)]

    def add_membership(self, name: str, organization: str, role: str) -> User:
        """Make a user curator or viewer of an organization (replacing an earlier role)."""
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}: use {' or '.join(ROLES)}")
        org = self._catalog.find_organization(organization)
        with self._catalog.transaction() as s:
            row = _find(s, name.strip())
            if row is None:
                raise NotFound(f"no user named {name!r} (see 'vellum user list')")
            existing = s.scalars(
                select(MembershipRow).where(
                    MembershipRow.user_id == row.id, MembershipRow.organization_id == org.id
                )
            ).first()
            if existing is None:
                s.add(MembershipRow(user_id=row.id, organization_id=org.id, role=role))
            else:
                existing.role = role
            s.flush()
            s.refresh(row)
            return _user(row)

    def set_password(self, name: str, password: str) -> User:
        """Replace a user's password and end every session the user had."""
        check_password(password)
        digest = self._hasher.hash(password)
        with self._catalog.transaction() as s:
            row = _find(s, name.strip())
            if row is None:
                raise NotFound(f"no user named {name!r} (see 'vellum user list')")
            row.password_hash = digest
            s.execute(delete(LoginSessionRow).where(LoginSessionRow.user_id == row.id))
            return _user(row)

    def verify(self, name: str, password: str) -> User | None:
        """The user if the password is theirs, else None (in about the same time either way)."""
        if len(password) > PASSWORD_MAX or len(name) > NAME_MAX:
            return None
        with self._catalog.transaction() as s:
            row = _find(s, name.strip())
            if row is None:
                self._verify(self._dummy_hash(), password)  # same cost: no user enumeration
                return None
            if not self._verify(row.password_hash, password):
                return None
            if self._hasher.check_needs_rehash(row.password_hash):
                row.password_hash = self._hasher.hash(password)
            return _user(row)

    def _verify(self, digest: str, password: str) -> bool:
        try:
            return self._hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self._hasher.hash("not a password of anyone")
        return self._dummy


def user_by_id(session: Session, user_id: int) -> User | None:
    """The user with this id, read in an open catalog session."""
    row = session.get(UserRow, user_id, options=[_memberships()])
    return _user(row) if row is not None else None


def _find(session: Session, name: str) -> UserRow | None:
    query = select(UserRow).where(func.lower(UserRow.name) == name.lower()).options(_memberships())
    return session.scalars(query).first()


def _memberships() -> LoaderOption:
    return selectinload(UserRow.memberships).joinedload(MembershipRow.organization)


def _user(row: UserRow) -> User:
    memberships = sorted(
        (
            Membership(
                Organization(m.organization.id, m.organization.name, m.organization.acronym),
                m.role,
            )
            for m in row.memberships
        ),
        key=lambda m: m.organization.acronym.lower(),
    )
    return User(row.id, row.name, row.admin, tuple(memberships))


__all__ = ["PASSWORD_MAX", "PASSWORD_MIN", "ROLES", "Membership", "User", "Users", "check_name"]
