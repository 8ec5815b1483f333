"""Log-in, log-out, cookies and sessions, against the real routes and a real catalog."""

from __future__ import annotations

from http.cookies import SimpleCookie

from tests.auth.conftest import PASSWORD, AuthSite, csrf_of, log_in
from tests.catalog.postgres import stored_bytes
from vellum.auth.sessions import SESSION_COOKIE
from vellum.settings import Settings


def set_cookies(response: object) -> dict[str, str]:
    """The raw Set-Cookie header of each cookie a response sets, by name."""
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = {}
    for header in headers:
        name = header.split("=", 1)[0]
        found[name] = header
    return found


def attributes(header: str) -> dict[str, str]:
    cookie = SimpleCookie()
    cookie.load(header)
    (morsel,) = cookie.values()
    return {k.lower(): str(v) for k, v in morsel.items() if v}


def test_log_in_sets_a_strict_session_cookie(auth_site: AuthSite, settings: Settings) -> None:
    browser = auth_site.client()
    page = browser.get("/login")
    assert page.status_code == 200
    assert '<label for="name">User name</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    pre = attributes(set_cookies(page)["vellum_csrf"])
    assert pre["httponly"] and pre["samesite"].lower() == "strict" and pre["path"] == "/"

    response = browser.post(
        "/login", data={"csrf_token": csrf_of(page.text), "name": "alice", "password": PASSWORD}
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    header = set_cookies(response)[SESSION_COOKIE]
    flags = attributes(header)
    assert flags["httponly"] and "httponly" in header.lower()
    assert flags["samesite"].lower() == "lax"
    assert flags["path"] == "/"
    assert int(flags["max-age"]) == 7 * 24 * 3600
    assert "domain" not in flags  # host-only: never sent to the replay host
    assert "secure" not in header.lower()  # plain HTTP here; see the HTTPS test
    session_id = browser.cookies[SESSION_COOKIE]
    assert len(session_id) >= 40
    # Only a digest of the id is stored.
    assert session_id.encode() not in stored_bytes(settings, auth_site.catalog)

    account = browser.get("/account")
    assert account.status_code == 200 and "logged in as <strong>alice</strong>" in account.text


def test_session_cookie_is_secure_over_https(auth_site: AuthSite) -> None:
    browser = auth_site.client(base_url="https://testserver")
    response = log_in(browser)
    assert response.status_code == 303
    header = set_cookies(response)[SESSION_COOKIE]
    assert "secure" in header.lower().replace(" ", "").split(";")
    assert browser.get("/account").status_code == 200


def test_wrong_password_or_unknown_user_is_refused_alike(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    wrong = log_in(browser, password="not the password")
    unknown = log_in(browser, name="mallory")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Wrong user name or password." in response.text
        assert SESSION_COOKIE not in set_cookies(response)
    assert browser.get("/account").status_code == 303


def test_log_out_ends_the_session_on_the_server(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    assert log_in(browser).status_code == 303
    session_id = browser.cookies[SESSION_COOKIE]
    account = browser.get("/account")
    out = browser.post("/logout", data={"csrf_token": csrf_of(account.text)})
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert 'vellum_session=""' in set_cookies(out)[SESSION_COOKIE]
    assert browser.get("/account").status_code == 303
    # The old id is dead even if a copy of the cookie was kept.
    thief = auth_site.client()
    thief.cookies.set(SESSION_COOKIE, session_id)
    response = thief.get("/account")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_new_log_in_gets_a_new_session_id(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    log_in(browser)
    first = browser.cookies[SESSION_COOKIE]
    log_in(browser)
    second = browser.cookies[SESSION_COOKIE]
    assert first != second
    stale = auth_site.client()
    stale.cookies.set(SESSION_COOKIE, first)
    assert stale.get("/account").status_code == 303


def test_sessions_expire(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    log_in(browser)
    auth_site.clock.advance(days=6, hours=23)
    assert browser.get("/account").status_code == 200
    auth_site.clock.advance(hours=1)
    assert browser.get("/account").status_code == 303


def test_next_stays_on_this_site(auth_site: AuthSite) -> None:
    cases = {
        "/closed/": "/closed/",
        "/account/password": "/account/password",
        "//evil.example/": "/",
        "https://evil.example/": "/",
        "/\\evil.example": "/",
        "javascript:alert(1)": "/",
    }
    for asked, expected in cases.items():
        browser = auth_site.client()
        response = log_in(browser, next_path=asked)
        assert response.status_code == 303
        assert response.headers["location"] == expected, asked


def test_account_page_escapes_organization_names(auth_site: AuthSite) -> None:
    auth_site.catalog.create_organization("<script>alert(1)</script> Org", "XSS")
    auth_site.users.add_membership("alice", "XSS", "viewer")
    browser = auth_site.client()
    log_in(browser)
    page = browser.get("/account").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Org (XSS): viewer" in page
