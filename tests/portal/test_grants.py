"""Replay grants: a member sees a private collection in the frame, nobody else does."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import delete
from starlette.testclient import TestClient

from tests.auth.conftest import log_in
from tests.portal.conftest import PASSWORD, build_archive
from vellum.catalog import Catalog
from vellum.catalog.models import MembershipRow
from vellum.catalog.users import Users
from vellum.replay.app import create_app
from vellum.settings import Settings
from vellum.web.grants import GRANT_COOKIE, Grants

UI = "http://localhost:8001"
REPLAY = "http://127.0.0.1:8002"
CAPTURE_A = "/priv-a/20200101120000/http://private.example.org/"
FRAMED_A = "/priv-a/20200101120000mp_/http://private.example.org/"
FRAMED_B = "/priv-b/20210101120000mp_/http://b.example.org/"


@dataclass
class Split:
    settings: Settings
    catalog: Catalog
    app: object

    def client(self, base_url: str) -> TestClient:
        return TestClient(self.app, base_url=base_url, follow_redirects=False)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Split]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("grants") / "data", ui_origin=UI, replay_origin=REPLAY
    )
    catalog = build_archive(settings)
    yield Split(settings, catalog, create_app(settings, catalog))
    catalog.close()


def frame_src(ui: TestClient, path: str = CAPTURE_A) -> str:
    top = ui.get(path)
    assert top.status_code == 200, top.text
    found = re.search(r'<iframe id="vellum-replay"[^>]*\ssrc="([^"]+)"', top.text)
    assert found
    return html.unescape(found.group(1))


def grant_cookie(split: Split, user: str = "vic") -> str:
    """Log `user` in on the UI, open the private page, swap the frame's grant: the cookie."""
    with split.client(UI) as ui, split.client(REPLAY) as replay:
        assert log_in(ui, user, PASSWORD).status_code == 303
        src = frame_src(ui)
        swapped = replay.get(src.removeprefix(REPLAY))
        assert swapped.status_code == 303, swapped.text
        cookie = swapped.headers["set-cookie"]
        found = re.match(rf"{GRANT_COOKIE}=([^;]+);", cookie)
        assert found
        return found.group(1)


def replay_get(split: Split, path: str, grant: str | None = None) -> tuple[int, str]:
    """What a frame gets for `path` with this grant cookie (a 302 to the UI followed)."""
    headers = {"Cookie": f"{GRANT_COOKIE}={grant}", "Sec-Fetch-Dest": "iframe"}
    if not grant:
        del headers["Cookie"]
    with split.client(REPLAY) as replay, split.client(UI) as ui:
        response = replay.get(path, headers=headers)
        if response.status_code == 302:  # not visible here: like no collection at all
            assert response.headers["location"].startswith(UI + "/")
            response = ui.get(response.headers["location"].removeprefix(UI))
        return response.status_code, response.text


def test_member_gets_the_private_page_in_the_frame(split: Split) -> None:
    with split.client(UI) as ui, split.client(REPLAY) as replay:
        assert log_in(ui, "vic", PASSWORD).status_code == 303
        src = frame_src(ui)
        parts = urlsplit(src)
        assert f"{parts.scheme}://{parts.netloc}" == REPLAY
        assert parts.path == "/_grant/priv-a"
        assert parse_qs(parts.query)["to"] == [FRAMED_A]
        swapped = replay.get(src.removeprefix(REPLAY))
        assert swapped.status_code == 303
        assert swapped.headers["location"] == FRAMED_A
        assert swapped.headers["cache-control"] == "no-store"
        flags = [f.strip().lower() for f in swapped.headers["set-cookie"].split(";")[1:]]
        for flag in ("httponly", "secure", "samesite=none", "partitioned", "path=/priv-a/"):
            assert flag in flags, flags
        assert "domain" not in " ".join(flags)  # host-only
    grant = grant_cookie(split)
    status, text = replay_get(split, FRAMED_A, grant)
    assert (status, "Secret A" in text) == (200, True)


def test_public_collection_frame_needs_no_grant(split: Split) -> None:
    with split.client(UI) as ui:
        src = frame_src(ui, "/pub/20151229231410/http://www.example.org/")
    assert src == REPLAY + "/pub/20151229231410mp_/http://www.example.org/"


def test_anonymous_replay_is_404_like_a_missing_collection(split: Split) -> None:
    missing = "/no-such/20200101120000mp_/http://private.example.org/"
    for dest in ("iframe", "document", "image", ""):
        with split.client(REPLAY) as replay, split.client(UI) as ui:
            headers = {"Sec-Fetch-Dest": dest} if dest else {}
            hidden, absent = (
                replay.get(FRAMED_A, headers=headers),
                replay.get(missing, headers=headers),
            )
            # The replay origin answers both alike (it sends them to the UI origin)...
            assert hidden.status_code == absent.status_code, dest
            assert hidden.headers.get("location", "").replace("priv-a", "no-such") == (
                absent.headers.get("location", "")
            )
            # ...where both are a 404, word for word.
            if hidden.status_code == 302:
                hidden = ui.get(hidden.headers["location"].removeprefix(UI))
                absent = ui.get(absent.headers["location"].removeprefix(UI))
            assert hidden.status_code == absent.status_code == 404
            assert hidden.text == absent.text.replace("no-such", "priv-a")
            assert "Secret" not in hidden.text


def test_grant_for_one_collection_does_not_open_another(split: Split) -> None:
    grant = grant_cookie(split)
    status, text = replay_get(split, FRAMED_B, grant)
    assert status == 404 and "Secret B" not in text
    # Nor does the frame's grant of A open B at the grant endpoint.
    with split.client(UI) as ui, split.client(REPLAY) as replay:
        assert log_in(ui, "vic", PASSWORD).status_code == 303
        src = frame_src(ui).removeprefix(REPLAY)
        other = src.replace("/_grant/priv-a?", "/_grant/priv-b?").replace(
            "to=%2Fpriv-a%2F", "to=%2Fpriv-b%2F"
        )
        assert other != src
        assert replay.get(other).status_code == 404


def test_forged_expired_or_misused_grants_are_refused(split: Split) -> None:
    grants = Grants(split.settings.data_dir)
    good = grants.issue("cookie", "priv-a", "vic")
    assert replay_get(split, FRAMED_A, good)[0] == 200
    body, mac = good.split(".")
    forged = f"{body}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}"
    past = datetime.now(UTC) - timedelta(hours=2)
    expired = Grants(split.settings.data_dir, clock=lambda: past).issue("cookie", "priv-a", "vic")
    other_key = Grants(split.settings.data_dir.parent / "elsewhere").issue(
        "cookie", "priv-a", "vic"
    )
    url_grant = grants.issue("url", "priv-a", "vic")  # only good for the grant endpoint
    not_a_member = grants.issue("cookie", "priv-a", "cur")
    no_such_user = grants.issue("cookie", "priv-a", "nobody")
    for bad in (forged, expired, other_key, url_grant, not_a_member, no_such_user, "x.y", "!"):
        status, text = replay_get(split, FRAMED_A, bad)
        assert status == 404 and "Secret A" not in text, bad
    with split.client(REPLAY) as replay:
        cookie_grant = f"/_grant/priv-a?t={good}&to={FRAMED_A}"
        assert replay.get(cookie_grant).status_code == 404  # a cookie grant in a URL
        url_grant_elsewhere = f"/_grant/priv-a?t={url_grant}&to=//evil.example/"
        assert replay.get(url_grant_elsewhere).status_code == 404
        assert replay.get(f"/_grant/priv-a?t={url_grant}&to={FRAMED_B}").status_code == 404
        assert replay.get(f"/_grant/priv-a?t={url_grant}&to={FRAMED_A}").status_code == 303
    with split.client(UI) as ui:  # the grant endpoint answers on the replay origin only
        assert ui.get(f"/_grant/priv-a?t={url_grant}&to={FRAMED_A}").status_code == 404


def test_a_grant_ends_with_the_membership(split: Split) -> None:
    users = Users(split.catalog)
    users.create("leaver", PASSWORD)
    users.add_membership("leaver", "A", "viewer")
    grant = grant_cookie(split, "leaver")
    assert replay_get(split, FRAMED_A, grant)[0] == 200
    leaver = users.get("leaver")
    with split.catalog.transaction() as s:
        s.execute(delete(MembershipRow).where(MembershipRow.user_id == leaver.id))
    assert replay_get(split, FRAMED_A, grant)[0] == 404


def test_the_key_is_private_to_the_installation(split: Split) -> None:
    key = split.settings.data_dir / "replay-grant.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_bytes()) == 32


def test_pages_of_another_collection_cannot_use_the_grant(split: Split) -> None:
    grant = grant_cookie(split)
    cookie = {"Cookie": f"{GRANT_COOKIE}={grant}"}
    own = f"{REPLAY}/priv-a/20200101120000mp_/http://private.example.org/"
    other = f"{REPLAY}/pub/20151229231410mp_/http://www.example.org/"
    cases = [
        # (headers, may see it)
        ({"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "no-cors", "Referer": own}, True),
        ({"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Referer": other}, False),
        ({"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}, False),  # no Referer
        ({"Sec-Fetch-Site": "same-origin", "Referer": f"{REPLAY}/"}, False),
        ({"Sec-Fetch-Site": "same-origin", "Referer": "http://evil.example/priv-a/"}, False),
        (
            {
                "Sec-Fetch-Site": "cross-site",
                "Sec-Fetch-Mode": "navigate",
                "Sec-Fetch-Dest": "iframe",
            },
            True,
        ),
        (
            {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},
            False,
        ),
    ]
    with split.client(REPLAY) as replay:
        for headers, allowed in cases:
            response = replay.get(FRAMED_A, headers={**cookie, **headers})
            assert ("Secret A" in response.text) is allowed, headers
            assert (response.status_code == 200) is allowed, headers
