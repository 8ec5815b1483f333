"""Every admin route × every role × a public and a private collection."""

from __future__ import annotations

import pytest

from tests.admin.conftest import ROLES, AdminSite, csrf_of
from vellum.catalog.collections import Collections
from vellum.catalog.organizations import Organizations

ADMIN_ONLY = [
    "/admin/organizations",
    "/admin/organizations/new",
    "/admin/organizations/{org}",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/viewer-a",
]
# Who manages each collection: curators of its organization and the admin.
MANAGERS = {
    "a-open": {"curator-a", "root"},  # public, organization A
    "a-private": {"curator-a", "root"},  # private, organization A
    "b-private": {"curator-b", "root"},  # private, organization B
}


def test_admin_only_pages(site: AdminSite) -> None:
    org = Organizations(site.catalog).get("A").id
    for role in ROLES:
        client = site.client(role)
        for path in (p.format(org=org) for p in ADMIN_ONLY):
            status = client.get(path).status_code
            expected = 303 if role is None else 200 if role == "root" else 403
            assert status == expected, (role, path)


def test_index_and_new_collection(site: AdminSite) -> None:
    for role in ROLES:
        client = site.client(role)
        index = client.get("/admin/")
        assert index.status_code == (303 if role is None else 200), role
        if role is None:
            assert index.headers["location"] == "/login?next=/admin/"
            continue
        listed = {s for s in MANAGERS if f'href="/admin/collections/{s}"' in index.text}
        assert listed == {s for s, who in MANAGERS.items() if role in who}, role
        new = client.get("/admin/collections/new").status_code
        assert new == (404 if role == "viewer-a" else 200), role


@pytest.mark.parametrize("slug", sorted(MANAGERS))
def test_collection_pages(site: AdminSite, slug: str) -> None:
    for role in ROLES:
        client = site.client(role)
        for path in (f"/admin/collections/{slug}", f"/admin/collections/{slug}/delete"):
            answer = client.get(path)
            if role is None:
                assert answer.status_code == 303, path
            elif role in MANAGERS[slug]:
                assert answer.status_code == 200, (role, path)
            else:
                # Exactly what a collection that does not exist answers.
                nowhere = client.get(path.replace(slug, "no-such-thing"))
                assert answer.status_code == 404, (role, path)
                assert answer.text == nowhere.text, (role, path)


@pytest.mark.parametrize("slug", sorted(MANAGERS))
def test_collection_forms_of_others_are_not_found(site: AdminSite, slug: str) -> None:
    before = Collections(site.catalog).get(slug)
    for role in ROLES:
        if role is None or role in MANAGERS[slug]:
            continue
        client = site.client(role)
        token = csrf_of(client.get("/admin/").text)
        posts = [
            (f"/admin/collections/{slug}", {"title": "Hijacked", "organization": "A"}),
            (f"/admin/collections/{slug}/exclusions", {"kind": "host", "target": "x.org"}),
            (f"/admin/collections/{slug}/delete", {"confirm": slug}),
        ]
        for path, data in posts:
            answer = client.post(path, data={**data, "reason": "r", "csrf_token": token})
            assert answer.status_code == 404, (role, path)
    assert Collections(site.catalog).get(slug) == before
    assert not (site.settings.data_dir / "trash").exists()


def test_admin_forms_of_non_admins_are_refused(site: AdminSite) -> None:
    before = Organizations(site.catalog).list()
    for role in ("viewer-a", "curator-a", "curator-b"):
        client = site.client(role)
        token = csrf_of(client.get("/admin/").text)
        data = {"name": "Z", "acronym": "Z", "csrf_token": token}
        assert client.post("/admin/organizations/new", data=data).status_code == 403
        data = {"admin": "yes", "csrf_token": token}
        assert client.post(f"/admin/users/{role}/admin", data=data).status_code == 403
    assert Organizations(site.catalog).list() == before
    anonymous = site.client(None)
    assert anonymous.post("/admin/organizations/new", data={"name": "Z"}).status_code == 403


def test_a_curator_cannot_move_a_collection_to_another_organization(site: AdminSite) -> None:
    client = site.client("curator-a")
    token = csrf_of(client.get("/admin/collections/a-open").text)
    data = {"title": "A open", "organization": "B", "public": "yes", "csrf_token": token}
    answer = client.post("/admin/collections/a-open", data=data)
    assert answer.status_code == 400 and "choose an organization you manage" in answer.text
    assert Collections(site.catalog).get("a-open").organization == "A"
