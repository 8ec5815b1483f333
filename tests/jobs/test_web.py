"""Seed and job pages: permissions, CSRF, bulk add with per-line errors, edit, crawl now."""

from __future__ import annotations

import pytest

from vellum.catalog import Catalog
from vellum.catalog.seeds import Seeds
from vellum.jobs.queue import JobQueue
from vellum.settings import Settings

from .web import browser, csrf_of, make_people


@pytest.fixture
def private(catalog: Catalog, coll: str) -> str:
    make_people(catalog)
    catalog.set_collection_public(coll, False)
    return coll


def _routes(catalog: Catalog, slug: str) -> list[tuple[str, str]]:
    seed = Seeds(catalog).add(slug, "https://a.example/")
    job = JobQueue(catalog).enqueue(slug, [seed.id])
    return [
        ("GET", f"/admin/collections/{slug}/seeds"),
        ("GET", f"/admin/collections/{slug}/seeds/{seed.id}"),
        ("GET", f"/admin/collections/{slug}/jobs"),
        ("GET", f"/admin/jobs/{job.id}"),
        ("GET", f"/admin/jobs/{job.id}/progress"),
        ("POST", f"/admin/collections/{slug}/crawl"),
        ("POST", f"/admin/collections/{slug}/seeds/{seed.id}/crawl"),
        ("POST", f"/admin/collections/{slug}/seeds/bulk"),
        ("POST", f"/admin/jobs/{job.id}/stop"),
    ]


@pytest.mark.parametrize("who", [None, "victor", "otto"])
def test_others_get_the_404_of_a_collection_that_does_not_exist(
    settings: Settings, catalog: Catalog, private: str, who: str | None
) -> None:
    routes = _routes(catalog, private)
    with browser(settings, catalog, who) as client:
        missing = client.get("/admin/collections/nosuch/seeds")
        assert missing.status_code == 404
        for method, path in routes:
            r = client.request(method, path, data={"csrf_token": "x", "urls": "https://b.example/"})
            assert r.status_code == 404, (who, method, path)
            if method == "GET" and "progress" not in path:
                assert r.text == missing.text
    assert len(Seeds(catalog).of(private)) == 1  # nothing was added
    assert JobQueue(catalog).get(1).state == "queued"  # nothing was stopped


@pytest.mark.parametrize("who", ["carla", "root"])
def test_the_curator_and_an_admin_manage_the_seeds(
    settings: Settings, catalog: Catalog, private: str, who: str
) -> None:
    routes = _routes(catalog, private)
    with browser(settings, catalog, who) as client:
        for method, path in routes:
            if method == "GET":
                assert client.get(path).status_code == 200, path
        page = client.get(f"/admin/collections/{private}/seeds")
        r = client.post(
            f"/admin/collections/{private}/seeds",
            data={"csrf_token": csrf_of(page.text), "url": "https://new.example/", "scope": "path"},
        )
        assert r.status_code == 303
    added = Seeds(catalog).of(private)[-1]
    assert (added.url, added.scope) == ("https://new.example/", "path")


def test_forms_without_the_right_csrf_token_are_refused(
    settings: Settings, catalog: Catalog, private: str
) -> None:
    seed = Seeds(catalog).add(private, "https://a.example/")
    base = f"/admin/collections/{private}"
    with browser(settings, catalog, "carla") as client:
        for token in (None, "wrong-token"):
            data = {"url": "https://b.example/", "urls": "https://c.example/", "notes": "x"}
            if token:
                data["csrf_token"] = token
            for path in (f"{base}/seeds", f"{base}/seeds/bulk", f"{base}/seeds/{seed.id}",
                         f"{base}/crawl", f"{base}/seeds/{seed.id}/remove"):  # fmt: skip
                r = client.post(path, data=data)
                assert r.status_code == 403, path
                assert "security token" in r.text
    assert [s.url for s in Seeds(catalog).of(private)] == ["https://a.example/"]
    assert Seeds(catalog).get(seed.id).notes == ""
    assert JobQueue(catalog).jobs(private) == []


def test_bulk_paste_saves_good_lines_and_lists_bad_ones(
    settings: Settings, catalog: Catalog, private: str
) -> None:
    Seeds(catalog).add(private, "https://dup.example/")
    pasted = "\n".join(
        [
            "https://one.example/",
            "# a comment",
            "",
            "ftp://files.example/",
            "two.example/news",
            "https://dup.example/",
            "<script>alert(1)</script>",
            "https://" + "x" * 2100 + ".example/",
        ]
    )
    with browser(settings, catalog, "carla") as client:
        page = client.get(f"/admin/collections/{private}/seeds")
        r = client.post(
            f"/admin/collections/{private}/seeds/bulk",
            data={"csrf_token": csrf_of(page.text), "urls": pasted, "frequency": "weekly"},
        )
    assert r.status_code == 400
    assert "2 seeds added" in r.text
    assert "4 lines not added" in r.text
    assert "line 4:" in r.text and "expected http:// or https://" in r.text
    assert "line 6:" in r.text and "already a seed" in r.text
    assert "line 7:" in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<script>alert" not in r.text
    assert "line 8:" in r.text and "at most 2048 characters" in r.text
    urls = {s.url: s.frequency for s in Seeds(catalog).of(private)}
    assert urls == {
        "https://dup.example/": "one-time",
        "https://one.example/": "weekly",
        "http://two.example/news": "weekly",
    }


def test_bulk_csv_upload(settings: Settings, catalog: Catalog, private: str) -> None:
    csv = (
        "url,scope,frequency,notes,subject\n"
        "https://a.example/,domain,monthly,first,news;politics\n"
        "https://b.example/,page,fortnightly,bad frequency,\n"
        '"https://c.example/x",path,,"quoted, with comma",\n'
    )
    with browser(settings, catalog, "carla") as client:
        page = client.get(f"/admin/collections/{private}/seeds")
        r = client.post(
            f"/admin/collections/{private}/seeds/bulk",
            data={"csrf_token": csrf_of(page.text), "urls": ""},
            files={"file": ("seeds.csv", csv.encode(), "text/csv")},
        )
    assert r.status_code == 400
    assert "line 3:" in r.text and "unknown frequency" in r.text
    seeds = {s.url: s for s in Seeds(catalog).of(private)}
    assert set(seeds) == {"https://a.example/", "https://c.example/x"}
    a = seeds["https://a.example/"]
    assert (a.scope, a.frequency, a.notes) == ("domain", "monthly", "first")
    assert a.dublin_core == {"subject": ["news", "politics"]}
    assert seeds["https://c.example/x"].notes == "quoted, with comma"


def test_edit_a_seed_and_refuse_bad_rules(
    settings: Settings, catalog: Catalog, private: str
) -> None:
    seed = Seeds(catalog).add(private, "https://a.example/")
    path = f"/admin/collections/{private}/seeds/{seed.id}"
    with browser(settings, catalog, "carla") as client:
        token = csrf_of(client.get(path).text)
        form = {
            "csrf_token": token,
            "scope": "domain",
            "frequency": "quarterly",
            "max_hops": "3",
            "exclude": "https://a.example/private/\nhttps://a.example/tmp/",
            "include_re": "([",
            "limit_documents": "500",
            "notes": "<b>watch</b>",
            "dc_title": "A site",
            "dc_language": "en; fr",
        }
        bad = client.post(path, data=form)
        assert bad.status_code == 400
        assert "bad regular expression" in bad.text
        assert Seeds(catalog).get(seed.id).scope == "host"  # nothing changed
        form["include_re"] = r"^https://cdn\.a\.example/"
        ok = client.post(path, data=form)
        assert ok.status_code == 303
        listing = client.get(f"/admin/collections/{private}/seeds")
        assert "&lt;b&gt;watch&lt;/b&gt;" in listing.text and "<b>watch" not in listing.text
    s = Seeds(catalog).get(seed.id)
    assert (s.scope, s.frequency, s.active, s.notes) == (
        "domain",
        "quarterly",
        False,
        "<b>watch</b>",
    )
    assert s.rules.exclude == ("https://a.example/private/", "https://a.example/tmp/")
    assert s.rules.max_hops == 3 and s.rules.limits == {"documents": 500}
    assert s.dublin_core == {"title": ["A site"], "language": ["en", "fr"]}


def test_crawl_now_queues_a_job_and_not_twice(
    settings: Settings, catalog: Catalog, private: str
) -> None:
    Seeds(catalog).add(private, "https://a.example/")
    with browser(settings, catalog, "carla") as client:
        token = csrf_of(client.get(f"/admin/collections/{private}/seeds").text)
        r = client.post(f"/admin/collections/{private}/crawl", data={"csrf_token": token})
        assert r.status_code == 303 and r.headers["location"] == "/admin/jobs/1"
        again = client.post(f"/admin/collections/{private}/crawl", data={"csrf_token": token})
        assert again.status_code == 409 and "already being crawled by job 1" in again.text
        page = client.get("/admin/jobs/1")
        assert page.status_code == 200
        assert '<meta http-equiv="refresh"' in page.text  # live without JavaScript
        progress = client.get("/admin/jobs/1/progress")
        assert progress.json() == {"id": 1, "state": "queued", "progress": {}, "error": ""}
        assert "queued" in page.text
        r = client.post("/admin/jobs/1/pause", data={"csrf_token": token})
        assert r.status_code == 303
        assert JobQueue(catalog).get(1).state == "paused"
        page = client.get("/admin/jobs/1")
        assert '<meta http-equiv="refresh"' not in page.text
        bad = client.post("/admin/jobs/1/save", data={"csrf_token": token})
        assert bad.status_code == 409 and "not a test crawl" in bad.text
        listing = client.get(f"/admin/collections/{private}/jobs")
        assert "Job 1" in listing.text and "paused" in listing.text
