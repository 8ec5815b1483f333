"""The admin forms: happy paths, bad input, duplicates, escaping and CSRF."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.admin.conftest import AdminSite, csrf_of, post_form
from vellum.catalog.collections import Collections
from vellum.catalog.organizations import Organizations
from vellum.catalog.users import Users

SCRIPT = '<script>alert("x")</script>'


def test_admin_creates_edits_and_deletes_an_organization(site: AdminSite) -> None:
    root = site.client("root")
    answer = post_form(
        root,
        "/admin/organizations/new",
        "/admin/organizations/new",
        {"name": "Library C", "acronym": "C", "contact": "c@example.org", "logo_url": ""},
    )
    assert answer.status_code == 303
    org = Organizations(site.catalog).get("C")
    assert (org.name, org.contact) == ("Library C", "c@example.org")
    assert "Library C" in root.get("/admin/organizations").text
    page = f"/admin/organizations/{org.id}"
    edited = post_form(
        root,
        page,
        page,
        {"name": "Library See", "acronym": "LS", "contact": "", "logo_url": "https://x.org/l.png"},
    )
    assert edited.status_code == 303
    assert "Saved." in root.get(edited.headers["location"]).text
    assert Organizations(site.catalog).get(org.id).logo_url == "https://x.org/l.png"
    gone = post_form(root, page, f"{page}/delete", {})
    assert gone.status_code == 200 and "was deleted" in gone.text
    assert [o.acronym for o in Organizations(site.catalog).list()] == ["A", "B"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"name": "", "acronym": "Z"}, "needs a name"),
        ({"name": "   ", "acronym": "Z"}, "needs a name"),
        ({"name": "Z", "acronym": ""}, "needs an acronym"),
        ({"name": "N" * 301, "acronym": "Z"}, "at most 300"),
        ({"name": "Z", "acronym": "A" * 51}, "at most 50"),
        ({"name": "Z", "acronym": "Z", "contact": "c" * 501}, "at most 500"),
        ({"name": "Z", "acronym": "Z", "logo_url": "javascript:alert(1)"}, "http:// or https://"),
        ({"name": "Org A", "acronym": "Z"}, "already exists"),
        ({"name": "Other", "acronym": "b"}, "already exists"),
    ],
)
def test_organization_form_refuses_bad_input(
    site: AdminSite, fields: dict[str, str], reason: str
) -> None:
    root = site.client("root")
    data = {"contact": "", "logo_url": "", **fields}
    answer = post_form(root, "/admin/organizations/new", "/admin/organizations/new", data)
    assert answer.status_code == 400
    assert html.escape(reason, quote=False) in answer.text
    assert [o.acronym for o in Organizations(site.catalog).list()] == ["A", "B"]


def test_editing_an_organization_into_a_duplicate_is_refused(site: AdminSite) -> None:
    root = site.client("root")
    b = Organizations(site.catalog).get("B")
    page = f"/admin/organizations/{b.id}"
    answer = post_form(root, page, page, {"name": "Org A", "acronym": "B"})
    assert answer.status_code == 400 and "already exists" in answer.text
    assert Organizations(site.catalog).get(b.id).name == "Org B"


def test_deleting_an_organization_that_owns_collections_is_refused(site: AdminSite) -> None:
    root = site.client("root")
    a = Organizations(site.catalog).get("A")
    page = f"/admin/organizations/{a.id}"
    answer = post_form(root, page, f"{page}/delete", {})
    assert answer.status_code == 409
    assert "still owns 2 collection(s) (a-open, a-private)" in answer.text
    assert Organizations(site.catalog).get("A").collections == ("a-open", "a-private")


def test_admin_creates_a_user_and_manages_roles(site: AdminSite) -> None:
    root = site.client("root")
    created = post_form(
        root,
        "/admin/users/new",
        "/admin/users/new",
        {"name": "carol", "password": "a long password", "repeat": "a long password"},
    )
    assert created.status_code == 303 and created.headers["location"] == "/admin/users/carol"
    users = Users(site.catalog)
    assert not users.get("carol").admin
    b = Organizations(site.catalog).get("B")
    page = "/admin/users/carol"
    added = post_form(
        root, page, f"{page}/memberships", {"organization": str(b.id), "role": "curator"}
    )
    assert added.status_code == 303
    assert [(m.organization.acronym, m.role) for m in users.get("carol").memberships] == [
        ("B", "curator")
    ]
    assert "curator of Org B" in root.get(page).text
    assert post_form(root, page, f"{page}/admin", {"admin": "yes"}).status_code == 303
    assert users.get("carol").admin
    removed = post_form(root, page, f"{page}/memberships/remove", {"organization": str(b.id)})
    assert removed.status_code == 303
    assert users.get("carol").memberships == ()
    # The new user can log in with the password set here.
    assert users.verify("carol", "a long password") is not None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"name": "", "password": "a long password"}, "a user name is required"),
        ({"name": "x" * 65, "password": "a long password"}, "at most 64"),
        ({"name": "<b>bad</b>", "password": "a long password"}, "may hold only"),
        ({"name": "dave", "password": "short"}, "at least 8"),
        ({"name": "curator-a", "password": "a long password"}, "already exists"),
        ({"name": "Curator-A", "password": "a long password"}, "already exists"),
    ],
)
def test_user_form_refuses_bad_input(site: AdminSite, fields: dict[str, str], reason: str) -> None:
    root = site.client("root")
    data = {**fields, "repeat": fields["password"]}
    answer = post_form(root, "/admin/users/new", "/admin/users/new", data)
    assert answer.status_code == 400
    assert html.escape(reason) in answer.text
    assert len(Users(site.catalog).users()) == 4


def test_user_form_refuses_different_passwords(site: AdminSite) -> None:
    root = site.client("root")
    data = {"name": "erin", "password": "a long password", "repeat": "another password"}
    answer = post_form(root, "/admin/users/new", "/admin/users/new", data)
    assert answer.status_code == 400 and "not the same" in answer.text
    assert "erin" not in [u.name for u in Users(site.catalog).users()]


def test_bad_roles_and_the_last_admin_are_refused(site: AdminSite) -> None:
    root = site.client("root")
    a = Organizations(site.catalog).get("A")
    page = "/admin/users/viewer-a"
    answer = post_form(
        root, page, f"{page}/memberships", {"organization": str(a.id), "role": "owner"}
    )
    assert answer.status_code == 400 and "unknown role" in answer.text
    answer = post_form(root, page, f"{page}/memberships", {"organization": "x", "role": "viewer"})
    assert answer.status_code == 400 and "choose an organization" in answer.text
    answer = post_form(root, "/admin/users/root", "/admin/users/root/admin", {"admin": "no"})
    assert answer.status_code == 400 and "only administrator" in answer.text
    assert Users(site.catalog).get("root").admin


DC_FORM = {
    "subject": "Elections\nPolitics\n\n",
    "creator": "Team A",
    "language": "en\nfr",
    "rights": "CC BY 4.0",
}


def test_curator_creates_and_edits_a_collection(site: AdminSite) -> None:
    curator = site.client("curator-a")
    data = {
        "slug": "elections",
        "title": "Elections 2026",
        "organization": "A",
        "public": "no",
        "description": "Sites of the campaign.",
        "embargo_days": "30",
        **DC_FORM,
    }
    created = post_form(curator, "/admin/collections/new", "/admin/collections/new", data)
    assert created.status_code == 303
    record = Collections(site.catalog).get("elections")
    assert not record.public and record.embargo_days == 30
    assert record.dublin_core == {
        "subject": ("Elections", "Politics"),
        "creator": ("Team A",),
        "language": ("en", "fr"),
        "rights": ("CC BY 4.0",),
    }
    page = curator.get("/admin/collections/elections")
    assert "Elections\nPolitics</textarea>" in page.text
    edited = post_form(
        curator,
        "/admin/collections/elections",
        "/admin/collections/elections",
        {**data, "title": "Elections", "public": "yes", "embargo_days": "0", "subject": "Votes"},
    )
    assert edited.status_code == 303
    record = Collections(site.catalog).get("elections")
    assert (record.title, record.public, record.embargo_days) == ("Elections", True, 0)
    assert record.dublin_core["subject"] == ("Votes",)
    assert "elections" in curator.get("/admin/").text


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"slug": ""}, "invalid collection slug"),
        ({"slug": "Bad Slug"}, "invalid collection slug"),
        ({"slug": "admin"}, "invalid collection slug"),
        ({"slug": "x" * 64}, "invalid collection slug"),
        ({"slug": "a-open"}, "already exists"),
        ({"title": ""}, "needs a title"),
        ({"title": "T" * 301}, "at most 300"),
        ({"description": "d" * 10_001}, "at most 10000"),
        ({"subject": "s" * 1001}, "at most 1000"),
        ({"embargo_days": "-3"}, "an embargo is 0 to"),
        ({"embargo_days": "ten"}, "an embargo is 0 to"),
        ({"organization": "B"}, "choose an organization you manage"),
        ({"organization": ""}, "choose an organization you manage"),
    ],
)
def test_collection_form_refuses_bad_input(
    site: AdminSite, fields: dict[str, str], reason: str
) -> None:
    curator = site.client("curator-a")
    data = {"slug": "new-one", "title": "New", "organization": "A", "public": "yes", **fields}
    answer = post_form(curator, "/admin/collections/new", "/admin/collections/new", data)
    assert answer.status_code in (400, 413), answer.text
    if answer.status_code == 400:
        assert html.escape(reason) in answer.text
    slugs = [c.slug for c in Collections(site.catalog).list()]
    assert slugs == ["a-open", "a-private", "b-private"]


def test_html_in_every_text_field_is_escaped_on_every_page(site: AdminSite) -> None:
    root = site.client("root")
    answer = post_form(
        root,
        "/admin/organizations/new",
        "/admin/organizations/new",
        {"name": f"Org {SCRIPT}", "acronym": f"X{SCRIPT}", "contact": SCRIPT, "logo_url": ""},
    )
    assert answer.status_code == 303
    acronym = f"X{SCRIPT}"
    org = Organizations(site.catalog).get(acronym)
    post_form(
        root,
        "/admin/users/curator-a",
        "/admin/users/curator-a/memberships",
        {"organization": str(org.id), "role": "curator"},
    )
    data = {
        "slug": "xss",
        "title": f"T {SCRIPT}",
        "organization": acronym,
        "public": "yes",
        "description": f"D {SCRIPT}",
        **{e: f"{e} {SCRIPT}" for e in ("subject", "creator", "publisher", "contributor")},
        **{e: f"{e} {SCRIPT}" for e in ("date", "type", "language", "coverage", "rights")},
        "source": f"source {SCRIPT}",
    }
    assert (
        post_form(root, "/admin/collections/new", "/admin/collections/new", data).status_code == 303
    )
    excl = post_form(
        root,
        "/admin/collections/xss",
        "/admin/collections/xss/exclusions",
        {"kind": "url", "target": "http://example.com/<script>", "reason": f"R {SCRIPT}"},
    )
    assert excl.status_code == 303
    pages = [
        "/admin/",
        "/admin/organizations",
        f"/admin/organizations/{org.id}",
        "/admin/users",
        "/admin/users/curator-a",
        "/admin/collections/xss",
        "/admin/collections/xss/delete",
        "/",
        "/xss/",
    ]
    for path in pages:
        page = root.get(path)
        assert page.status_code == 200, path
        assert "<script>" not in page.text, path
        assert "&lt;script&gt;" in page.text, path
    # Bad input echoed back in a refused form is escaped too.
    bad = post_form(
        root,
        "/admin/organizations/new",
        "/admin/organizations/new",
        {"name": SCRIPT, "acronym": ""},
    )
    assert bad.status_code == 400 and "<script>" not in bad.text


POSTS = [
    ("/admin/organizations/new", {"name": "Z", "acronym": "Z"}),
    (
        "/admin/users/new",
        {"name": "zed", "password": "a long password", "repeat": "a long password"},
    ),
    ("/admin/users/viewer-a/admin", {"admin": "yes"}),
    ("/admin/collections/new", {"slug": "zz", "title": "Z", "organization": "A", "public": "yes"}),
    ("/admin/collections/a-open", {"title": "Changed", "organization": "A", "public": "yes"}),
    ("/admin/collections/a-open/exclusions", {"kind": "host", "target": "a.org", "reason": "r"}),
    ("/admin/collections/a-open/delete", {"confirm": "a-open"}),
]


def _state(site: AdminSite) -> object:
    return (
        Organizations(site.catalog).list(),
        Users(site.catalog).users(),
        Collections(site.catalog).list(),
    )


@pytest.mark.parametrize(("path", "data"), POSTS)
def test_forms_without_or_with_a_wrong_csrf_token_are_refused(
    site: AdminSite, path: str, data: dict[str, str]
) -> None:
    root = site.client("root")
    before = _state(site)
    missing = root.post(path, data=data)
    assert missing.status_code == 403 and "no security token" in missing.text
    wrong = root.post(path, data={**data, "csrf_token": "x" * 43})
    assert wrong.status_code == 403 and "wrong or has expired" in wrong.text
    # Another session's token is wrong too.
    other = csrf_of(site.client("curator-a").get("/admin/").text)
    assert root.post(path, data={**data, "csrf_token": other}).status_code == 403
    assert _state(site) == before
    assert site.settings.collection_dir("a-open").parent.exists() is False or (
        not (site.settings.data_dir / "trash").exists()
    )


def test_deleting_a_collection_asks_for_its_slug_and_moves_its_files(site: AdminSite) -> None:
    curator = site.client("curator-a")
    warcs = site.settings.warc_dir("a-private")
    warcs.mkdir(parents=True)
    (warcs / "x.warc.gz").write_bytes(b"bytes kept")
    page = "/admin/collections/a-private/delete"
    form = curator.get(page)
    assert form.status_code == 200 and "Type the slug" in form.text
    for wrong in ("", "a-open", "A-PRIVATE"):
        refused = post_form(curator, page, page, {"confirm": wrong})
        assert refused.status_code == 400 and "to confirm" in refused.text
        assert (warcs / "x.warc.gz").exists()
    done = post_form(curator, page, page, {"confirm": "a-private"})
    assert done.status_code == 200
    moved = re.search(r'id="moved-to">([^<]+)<', done.text)
    assert moved, done.text
    where = Path(html.unescape(moved.group(1)))
    assert where.parent == site.settings.data_dir / "trash"
    assert (where / "warcs" / "x.warc.gz").read_bytes() == b"bytes kept"
    assert not site.settings.collection_dir("a-private").exists()
    assert [c.slug for c in Collections(site.catalog).list()] == ["a-open", "b-private"]
    assert curator.get("/admin/collections/a-private").status_code == 404
    assert curator.get("/a-private/").status_code == 404
