"""Item 1: the URL scheme, modifiers, verbatim URLs, fuzzy matching, no redirect loops."""

from __future__ import annotations

import pytest

from tests.replay_proto.conftest import PAGE, PNG, SITE, SLUG, T1, T2, T3, Proto
from vellum.urls.timestamps import from_timestamp, pad_high


def follow(proto: Proto, path: str, hops: int = 5) -> tuple[list[str], int, bytes]:
    """Follow redirects inside the archive; the paths seen, final status and body."""
    seen = [path]
    for _ in range(hops):
        r = proto.client.get(path)
        if r.status_code not in (301, 302, 303, 307, 308):
            return seen, r.status_code, r.content
        path = r.headers["location"]
        assert path.startswith(f"/{SLUG}/"), path  # never leaves the archive
        assert path not in seen, f"redirect loop: {[*seen, path]}"
        seen.append(path)
    raise AssertionError(f"too many redirects: {seen}")


@pytest.mark.parametrize("digits", range(1, 15))
def test_every_timestamp_length_redirects_to_the_exact_capture(proto: Proto, digits: int) -> None:
    asked = T2[:digits]
    r = proto.client.get(f"/{SLUG}/{asked}id_/{SITE}/page.html")
    if digits == 14:
        assert r.status_code == 200 and T2.encode() in r.content
        return
    assert r.status_code == 302
    # Padded up to the end of its period, the closest capture answers (pywb's rule).
    target = from_timestamp(pad_high(asked))
    expected = min((T1, T2, T3), key=lambda ts: abs(from_timestamp(ts) - target))
    assert r.headers["location"] == f"/{SLUG}/{expected}id_/{SITE}/page.html"


@pytest.mark.parametrize("modifier", ["id_", "mp_", "if_", "fr_", "js_", "cs_", "im_", "oe_"])
def test_every_modifier_is_kept_through_the_redirect(proto: Proto, modifier: str) -> None:
    r = proto.client.get(f"/{SLUG}/2020{modifier}/{SITE}/img.png")
    assert r.headers["location"] == f"/{SLUG}/{T1}{modifier}/{SITE}/img.png"
    image = proto.client.get(r.headers["location"])
    assert image.status_code == 200 and image.content == PNG


def test_modifiers_behave_as_pywb_defines_them(proto: Proto) -> None:
    page = f"{SITE}/page.html"
    raw = proto.client.get(f"/{SLUG}/{T1}id_/{page}")
    assert raw.content == PAGE.replace(b"page body", T1.encode())
    for modifier in ("mp_", "if_", "fr_"):  # framed documents: rewritten, client rewriter
        text = proto.client.get(f"/{SLUG}/{T1}{modifier}/{page}").text
        assert f'href="/{SLUG}/{T1}/{SITE}/other.html"' in text
        assert "data-vellum" in text
    for modifier in ("im_", "oe_"):  # rewritten, but no insert: not a framed document
        text = proto.client.get(f"/{SLUG}/{T1}{modifier}/{page}").text
        assert f'href="/{SLUG}/{T1}/{SITE}/other.html"' in text
        assert "data-vellum" not in text
    # cs_ rewrites CSS that is not typed as CSS; without it, text/plain is left alone.
    css = proto.client.get(f"/{SLUG}/{T1}cs_/{SITE}/plain.txt").text
    assert css == f"body{{background:url(/{SLUG}/{T1}im_/{SITE}/img.png)}}"
    plain = proto.client.get(f"/{SLUG}/{T1}mp_/{SITE}/plain.txt").text
    assert plain == "body{background:url(/img.png)}"
    # js_ never HTML-rewrites script typed text/html (JSONP); mp_ would insert into it.
    jsonp = proto.client.get(f"/{SLUG}/{T1}js_/{SITE}/jsonp")
    assert jsonp.content == b'cb({"a": "<b>"})'
    assert proto.client.get(f"/{SLUG}/{T1}js_/{SITE}/app.js").content == b"var x = '<a>';"
    styled = proto.client.get(f"/{SLUG}/{T1}js_/{SITE}/style.css").text
    assert f"/{SLUG}/{T1}im_/{SITE}/img.png" in styled  # CSS stays CSS under js_


def test_target_url_is_taken_verbatim(proto: Proto) -> None:
    # `+` is not a space, `//` is not merged, the query is the target's own.
    url = f"{SITE}/a+b//c?q=1+2"
    r = proto.client.get(f"/{SLUG}/{T1}id_/{url}")
    assert r.status_code == 200 and r.content == b"plus and slashes"
    # A slash collapsed by a proxy is repaired, and the capture is served without a hop.
    repaired = proto.client.get(f"/{SLUG}/{T1}id_/http:/site.test/a+b//c?q=1+2")
    assert repaired.status_code == 200 and repaired.content == b"plus and slashes"
    # A space would be a different URL: not the capture of `+`.
    other = proto.client.get(f"/{SLUG}/{T1}id_/{SITE}/a%20b//c?q=1+2")
    assert other.status_code == 404


def test_fuzzy_match_ignores_cache_busting_parameters(proto: Proto) -> None:
    seen, status, body = follow(proto, f"/{SLUG}/{T1}id_/{SITE}/data.json?_=999")
    assert status == 200 and body == b'{"fresh": true}'
    assert seen[-1] == f"/{SLUG}/{T1}id_/{SITE}/data.json?_=12345"
    # No query at all also finds the capture that had only a cache-buster.
    _, status, _ = follow(proto, f"/{SLUG}/{T1}id_/{SITE}/data.json")
    assert status == 200
    # A parameter the rules do not ignore still has to match.
    assert proto.client.get(f"/{SLUG}/{T1}id_/{SITE}/data.json?page=2").status_code == 404


def test_self_redirect_capture_does_not_loop(proto: Proto) -> None:
    # http://site.test/loop (301 → https, the same SURT key) is skipped for the 200.
    seen, status, body = follow(proto, f"/{SLUG}/{T1}mp_/{SITE}/loop")
    assert status == 200 and b"loop target" in body
    assert seen[-1] == f"/{SLUG}/{T2}mp_/https://site.test/loop"
    # Nothing but a redirect to itself: not replayable, said so instead of looping.
    seen, status, _ = follow(proto, f"/{SLUG}/{T1}mp_/{SITE}/onlyloop")
    assert status == 404 and len(seen) == 1


def test_redirects_replay_as_redirects_inside_the_archive(proto: Proto) -> None:
    r = proto.client.get(f"/{SLUG}/{T1}mp_/{SITE}/old")
    assert r.status_code == 301
    assert r.headers["location"] == f"/{SLUG}/{T1}mp_/{SITE}/page.html"
    raw = proto.client.get(f"/{SLUG}/{T1}id_/{SITE}/old")
    assert raw.headers["location"] == f"/{SLUG}/{T1}id_/{SITE}/page.html"  # no open redirect
