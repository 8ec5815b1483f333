"""CSRF tokens on every form, password change, and bad input on the log-in forms."""

from __future__ import annotations

import pytest

from tests.auth.conftest import PASSWORD, AuthSite, csrf_of, log_in
from vellum.auth.forms import FORM_MAX
from vellum.auth.sessions import SESSION_COOKIE

NEW = "a much better password"


def test_login_without_or_with_a_wrong_csrf_token_is_refused(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    token = csrf_of(browser.get("/login").text)
    good = {"name": "alice", "password": PASSWORD}
    missing = browser.post("/login", data=good)
    assert missing.status_code == 403
    assert "This form has no security token" in missing.text
    wrong = browser.post("/login", data={**good, "csrf_token": token[:-2] + "xx"})
    assert wrong.status_code == 403 and "wrong or has expired" in wrong.text
    # A token copied into another browser (no matching cookie) is refused too.
    other = auth_site.client()
    forged = other.post("/login", data={**good, "csrf_token": token})
    assert forged.status_code == 403
    for response in (missing, wrong, forged):
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert browser.post("/login", data={**good, "csrf_token": token}).status_code == 303


def test_logged_in_forms_need_the_session_token(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    log_in(browser)
    token = csrf_of(browser.get("/account").text)
    # The pre-login token is not the session's.
    stranger_token = csrf_of(auth_site.client().get("/login").text)
    for bad in ({}, {"csrf_token": ""}, {"csrf_token": stranger_token}):
        out = browser.post("/logout", data=bad)
        assert out.status_code == 403, bad
        change = browser.post(
            "/account/password", data={**bad, "current": PASSWORD, "new": NEW, "repeat": NEW}
        )
        assert change.status_code == 403, bad
    # Nothing happened: still logged in, password unchanged.
    assert browser.get("/account").status_code == 200
    assert auth_site.users.verify("alice", PASSWORD) is not None
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303


def test_password_change_logs_out_every_other_session(auth_site: AuthSite) -> None:
    laptop, phone = auth_site.client(), auth_site.client(address="192.0.2.2")
    log_in(laptop)
    log_in(phone)
    old_laptop_id = laptop.cookies[SESSION_COOKIE]
    form = laptop.get("/account/password")
    assert form.status_code == 200 and '<label for="new">New password</label>' in form.text
    changed = laptop.post(
        "/account/password",
        data={"csrf_token": csrf_of(form.text), "current": PASSWORD, "new": NEW, "repeat": NEW},
    )
    assert changed.status_code == 200 and "Your password was changed" in changed.text
    assert laptop.cookies[SESSION_COOKIE] != old_laptop_id  # rotated
    assert laptop.get("/account").status_code == 200
    assert phone.get("/account").status_code == 303
    stale = auth_site.client()
    stale.cookies.set(SESSION_COOKIE, old_laptop_id)
    assert stale.get("/account").status_code == 303
    assert log_in(auth_site.client(), password=PASSWORD).status_code == 400
    assert log_in(auth_site.client(), password=NEW).status_code == 303


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"current": "", "new": NEW, "repeat": NEW}, 400, "Enter your current password."),
        ({"current": PASSWORD, "new": NEW, "repeat": NEW + "x"}, 400, "are not the same"),
        ({"current": PASSWORD, "new": "short", "repeat": "short"}, 400, "at least 8 characters"),
        ({"current": PASSWORD, "new": "x" * 1025, "repeat": "x" * 1025}, 400, "at most 1024"),
        ({"current": "wrong password", "new": NEW, "repeat": NEW}, 400, "current password is"),
    ],
)
def test_password_change_bad_input(
    auth_site: AuthSite, fields: dict[str, str], status: int, message: str
) -> None:
    browser = auth_site.client()
    log_in(browser)
    token = csrf_of(browser.get("/account/password").text)
    response = browser.post("/account/password", data={"csrf_token": token, **fields})
    assert response.status_code == status and message in response.text
    assert browser.get("/account").status_code == 200  # still logged in
    assert auth_site.users.verify("alice", PASSWORD) is not None  # unchanged


def test_password_pages_need_a_log_in(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    response = browser.get("/account/password")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account/password"
    posted = browser.post("/account/password", data={"current": PASSWORD, "new": NEW})
    assert posted.status_code == 303
    assert auth_site.users.verify("alice", PASSWORD) is not None


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("", PASSWORD, "Enter your user name."),
        ("   ", PASSWORD, "Enter your user name."),
        ("alice", "", "Enter your password."),
        ("a" * 65, PASSWORD, "at most 64 characters"),
        ("alice", "p" * 1025, "at most 1024 characters"),
    ],
)
def test_login_bad_input_is_400_with_the_reason(
    auth_site: AuthSite, name: str, password: str, message: str
) -> None:
    response = log_in(auth_site.client(), name=name, password=password)
    assert response.status_code == 400
    assert message in response.text


def test_html_in_the_user_name_is_escaped(auth_site: AuthSite) -> None:
    evil = '"><script>alert(1)</script>'
    response = log_in(auth_site.client(), name=evil)
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text


def test_unreadable_forms_are_refused(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    token = csrf_of(browser.get("/login").text)
    huge = browser.post(
        "/login", data={"csrf_token": token, "name": "alice", "password": "x" * FORM_MAX}
    )
    assert huge.status_code == 413 and "too large" in huge.text
    as_json = browser.post("/login", json={"name": "alice", "password": PASSWORD})
    assert as_json.status_code == 415 and "x-www-form-urlencoded" in as_json.text
    bad_utf8 = browser.post(
        "/login",
        content=b"csrf_token=" + token.encode() + b"&name=%ff%fe&password=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert bad_utf8.status_code == 400 and "could not be read" in bad_utf8.text
    assert browser.get("/logout").status_code == 405
    # None of it logged anyone in.
    assert browser.get("/account").status_code == 303
