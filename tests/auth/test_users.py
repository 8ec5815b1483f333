"""Users in the catalog: argon2id hashes, names, roles."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from tests.auth.conftest import CHEAP, PASSWORD
from tests.catalog.postgres import stored_bytes
from vellum.catalog import Catalog
from vellum.catalog.users import Users
from vellum.errors import InvalidInput, NotFound, VellumError
from vellum.settings import Settings


def test_passwords_are_stored_as_argon2id_only(catalog: Catalog, settings: Settings) -> None:
    users = Users(catalog)  # the default parameters
    created = users.create("Alice", PASSWORD, admin=True)
    assert created.admin and created.name == "Alice"
    stored = stored_bytes(settings, catalog)
    assert PASSWORD.encode() not in stored
    assert b"$argon2id$v=19$m=65536,t=3,p=4$" in stored
    assert users.verify("alice", PASSWORD) == created  # names compare without case
    assert users.verify("Alice", PASSWORD + " ") is None
    assert users.verify("nobody", PASSWORD) is None


def test_weaker_hashes_are_upgraded_at_log_in(catalog: Catalog, settings: Settings) -> None:
    Users(catalog, CHEAP).create("alice", PASSWORD)
    assert b"m=1024,t=1,p=1" in stored_bytes(settings, catalog)
    strong = PasswordHasher()
    assert Users(catalog, strong).verify("alice", PASSWORD) is not None
    stored = stored_bytes(settings, catalog)
    assert b"m=1024,t=1,p=1" not in stored and b"m=65536,t=3,p=4" in stored
    assert Users(catalog, strong).verify("alice", PASSWORD) is not None


@pytest.mark.parametrize(
    ("name", "password", "reason"),
    [
        ("", PASSWORD, "a user name is required"),
        ("x" * 65, PASSWORD, "at most 64"),
        ("<b>eve</b>", PASSWORD, "may hold only"),
        ("eve smith", PASSWORD, "may hold only"),
        ("-eve", PASSWORD, "may hold only"),
        ("eve", "short", "at least 8"),
        ("eve", "p" * 1025, "at most 1024"),
    ],
)
def test_bad_names_and_passwords_are_refused(
    catalog: Catalog, name: str, password: str, reason: str
) -> None:
    users = Users(catalog, CHEAP)
    with pytest.raises(InvalidInput, match=reason):
        users.create(name, password)
    assert users.users() == []


def test_duplicate_names_ignore_case(catalog: Catalog) -> None:
    users = Users(catalog, CHEAP)
    users.create("alice", PASSWORD)
    with pytest.raises(VellumError, match="already exists"):
        users.create("ALICE", "another password")
    assert [u.name for u in users.users()] == ["alice"]
    assert users.verify("alice", PASSWORD) is not None  # the first one's password stays


def test_roles(catalog: Catalog) -> None:
    a = catalog.create_organization("Org A", "A")
    b = catalog.create_organization("Org B", "B")
    users = Users(catalog, CHEAP)
    users.create("vic", PASSWORD)
    users.add_membership("vic", "A", "viewer")
    vic = users.add_membership("vic", "Org B", "curator")
    assert [(m.organization.acronym, m.role) for m in vic.memberships] == [
        ("A", "viewer"),
        ("B", "curator"),
    ]
    assert vic.organizations == frozenset({a.id, b.id})
    vic = users.add_membership("vic", "A", "curator")  # a new role replaces the old
    assert (vic.memberships[0].organization.acronym, vic.memberships[0].role) == ("A", "curator")
    with pytest.raises(InvalidInput, match="unknown role"):
        users.add_membership("vic", "A", "owner")
    with pytest.raises(NotFound, match="no organization"):
        users.add_membership("vic", "C", "viewer")
    with pytest.raises(NotFound, match="no user"):
        users.add_membership("nobody", "A", "viewer")
    assert users.get("VIC").memberships == vic.memberships


def test_set_password(catalog: Catalog) -> None:
    users = Users(catalog, CHEAP)
    users.create("alice", PASSWORD)
    with pytest.raises(InvalidInput):
        users.set_password("alice", "short")
    assert users.verify("alice", PASSWORD) is not None
    users.set_password("alice", "another password")
    assert users.verify("alice", PASSWORD) is None
    assert users.verify("alice", "another password") is not None
    with pytest.raises(NotFound):
        users.set_password("bob", "another password")
