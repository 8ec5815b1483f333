"""Failed log-ins lock the account, and the address, for a window (injected clock)."""

from __future__ import annotations

from tests.auth.conftest import PASSWORD, AuthSite, csrf_of, log_in
from vellum.auth.throttle import LoginThrottle, ThrottlePolicy


def test_five_failures_lock_the_account_for_fifteen_minutes(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    for _ in range(4):
        assert log_in(browser, password="guess").status_code == 400
        auth_site.clock.advance(seconds=30)
    assert log_in(browser, password="guess").status_code == 400  # the 5th, at 2:00
    auth_site.clock.advance(minutes=1)
    # Locked even with the right password, and even from another address.
    for client in (browser, auth_site.client(address="198.51.100.7")):
        locked = log_in(client, password=PASSWORD)
        assert locked.status_code == 429
        assert "Too many failed log-ins" in locked.text
        assert int(locked.headers["retry-after"]) == 12 * 60  # 15 min from the first of the five
    # Another account from the same address is not locked by alice's failures.
    auth_site.users.create("bob", PASSWORD)
    assert log_in(browser, name="bob").status_code == 303
    auth_site.clock.advance(minutes=12, seconds=-1)
    assert log_in(browser, password=PASSWORD).status_code == 429
    auth_site.clock.advance(seconds=1)
    assert log_in(browser, password=PASSWORD).status_code == 303


def test_a_success_clears_the_account_count(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    for _ in range(4):
        assert log_in(browser, password="guess").status_code == 400
    assert log_in(browser).status_code == 303
    for _ in range(4):
        assert log_in(browser, password="guess").status_code == 400
    assert log_in(browser).status_code == 303


def test_many_failures_from_one_address_lock_that_address(auth_site: AuthSite) -> None:
    attacker = auth_site.client(address="203.0.113.9")
    for i in range(20):  # spread over many names: no account reaches its own limit
        assert log_in(attacker, name=f"user{i % 5}-{i}", password="guess").status_code == 400
    assert log_in(attacker).status_code == 429
    # alice herself, from her own address, is not locked out.
    assert log_in(auth_site.client(address="192.0.2.50")).status_code == 303
    auth_site.clock.advance(minutes=15, seconds=1)
    assert log_in(attacker).status_code == 303


def test_wrong_current_passwords_count_too(auth_site: AuthSite) -> None:
    browser = auth_site.client()
    assert log_in(browser).status_code == 303
    token = csrf_of(browser.get("/account").text)
    form = {"csrf_token": token, "new": "a new password!", "repeat": "a new password!"}
    for _ in range(5):
        response = browser.post("/account/password", data={**form, "current": "guess"})
        assert response.status_code == 400
    locked = browser.post("/account/password", data={**form, "current": PASSWORD})
    assert locked.status_code == 429
    assert auth_site.users.verify("alice", PASSWORD) is not None


def test_lock_window_arithmetic(auth_site: AuthSite) -> None:
    throttle = LoginThrottle(
        auth_site.catalog, auth_site.clock, ThrottlePolicy(account_limit=3, address_limit=100)
    )
    start = auth_site.clock()
    for _ in range(2):
        throttle.failed("Carol", "192.0.2.1")
        auth_site.clock.advance(minutes=5)
    assert throttle.locked_until("carol", "192.0.2.1") is None
    throttle.failed("carol", "192.0.2.1")  # third, at 10:00: names compare without case
    assert throttle.locked_until("CAROL", "192.0.2.9") == start + ThrottlePolicy().window
    throttle.succeeded("carol")
    assert throttle.locked_until("carol", "192.0.2.1") is None
