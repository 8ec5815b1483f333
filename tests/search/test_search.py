"""Indexing WARCs imported for real, then ranking, filters, facets, dedup, updates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.search.conftest import Archive, Page, html
from vellum.catalog import Catalog
from vellum.search.feed import (
    FeedState,
    open_search_index,
    rebuild_search_index,
    search_dir,
    update_search_index,
)
from vellum.search.model import SearchRequest, SearchResults
from vellum.search.query import parse_query
from vellum.settings import Settings


def search(settings: Settings, text: str, **options: object) -> SearchResults:
    index = open_search_index(settings)
    try:
        return index.search(SearchRequest(parse_query(text), None, **options))  # type: ignore[arg-type]
    finally:
        index.close()


def urls(results: SearchResults) -> list[str]:
    return [hit.url for hit in results.hits]


PAGES = [
    Page(
        "http://a.example.org/unesco.html",
        "20150102030405",
        html("Heritage sites", "World heritage sites listed by the committee.", "en"),
    ),
    Page(
        "http://www.example.org/fr/maires.html",
        "20160203040506",
        html("Les maires", "Les maires francophones coopèrent entre eux. Patrimoine.", "fr"),
    ),
    Page(
        "http://other.net/report.txt",
        "20170304050607",
        b"A plain text report on heritage, cooperation and mayors of many cities.",
        "text/plain",
    ),
    Page("http://other.net/logo.png", "20170304050608", b"\x89PNG\r\n\x1a\nxx", "image/png"),
    Page("http://other.net/missing", "20170304050609", html("Not found", "heritage"), status=404),
]


def test_words_phrases_operators_prefix(settings: Settings, archive: Archive) -> None:
    stats = archive("docs", PAGES)
    assert (stats.files, stats.records, stats.documents) == (1, 5, 4)  # the 404 is left out
    assert set(urls(search(settings, "heritage"))) == {
        "http://a.example.org/unesco.html",
        "http://other.net/report.txt",
    }
    assert urls(search(settings, '"maires francophones"')) == [
        "http://www.example.org/fr/maires.html"
    ]
    assert urls(search(settings, '"francophones maires"')) == []
    assert urls(search(settings, "francoph*")) == ["http://www.example.org/fr/maires.html"]
    assert urls(search(settings, "heritage -committee")) == ["http://other.net/report.txt"]
    assert len(urls(search(settings, "committee OR maires"))) == 2
    # accents folded both ways; the URL alone finds a page with no text (an image)
    assert urls(search(settings, "cooperent")) == ["http://www.example.org/fr/maires.html"]
    assert urls(search(settings, "logo")) == ["http://other.net/logo.png"]


PHRASE_PAGES = [
    Page(
        "http://p.org/1",
        "20150101000000",
        html("Ville d'été", "Le conseil de la ville, de la région et de l'État se réunit.", "fr"),
    ),
    Page(
        "http://p.org/2", "20150101000000", html("Autre", "La ville de Paris. Région de la Loire.")
    ),
    Page("http://p.org/3", "20150101000000", html("Conseil municipal", "Rien de plus ici.")),
]


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ('"de la"', ["http://p.org/1", "http://p.org/2"]),
        ('"ville de"', ["http://p.org/1", "http://p.org/2"]),
        ('"ville, de la"', ["http://p.org/1"]),  # punctuation separates words, as in words
        ('"de la ville"', ["http://p.org/1"]),  # three words: each pair, then positions
        ('"conseil de la ville de la region"', ["http://p.org/1"]),
        ('"la region et de la ville"', []),  # each pair is on page 1, not this sequence
        ('"ville conseil"', []),  # "Ville d'été" (title) and "Le conseil": no pair across
        ('"ville d ete"', ["http://p.org/1"]),  # in the title, accents folded
        ('"conseil municipal"', ["http://p.org/3"]),
        ('"p org"', ["http://p.org/1", "http://p.org/2", "http://p.org/3"]),  # in the URL
    ],
)
@pytest.mark.parametrize("fast", [False, True], ids=["positions", "fast-phrases"])
def test_phrases(
    settings: Settings,
    catalog: Catalog,
    archive: Archive,
    phrase: str,
    expected: list[str],
    fast: bool,
) -> None:
    archive("docs", PHRASE_PAGES)
    # The same phrases from word positions and from pairs of common words (learned from
    # these pages), which a new index has.
    rebuild_search_index(settings, catalog, fast_phrases=fast, workers=1)
    assert (search_dir(settings) / "index" / "COMMON_WORDS").exists() == fast
    found = search(settings, phrase)
    assert sorted(urls(found)) == expected and found.total == len(expected)


def test_phrase_hits_highlight_the_words(settings: Settings, archive: Archive) -> None:
    archive("docs", PHRASE_PAGES)
    snippet = search(settings, '"de la ville"').hits[0].snippet
    assert "<b>de</b> <b>la</b> <b>ville</b>" in snippet


def test_hits_carry_links_snippets_and_fields(settings: Settings, archive: Archive) -> None:
    archive("docs", PAGES)
    hit = search(settings, "francophones").hits[0]
    assert hit.title == "Les maires"
    assert "<b>francophones</b>" in hit.snippet
    assert hit.replay_href == "/docs/20160203040506/http://www.example.org/fr/maires.html"
    assert hit.versions_href == "/docs/*/http://www.example.org/fr/maires.html"
    assert (hit.mime, hit.status, hit.lang, hit.host) == ("text/html", 200, "fr", "www.example.org")


def test_snippet_escapes_archived_markup(settings: Settings, archive: Archive) -> None:
    archive(
        "docs",
        [
            Page(
                "http://x.org/",
                "20150101000000",
                html("T", "&lt;script&gt;alert(1)&lt;/script&gt; needle"),
            )
        ],
    )
    snippet = search(settings, "needle").hits[0].snippet
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet


def test_title_match_ranks_above_a_single_mention(settings: Settings, archive: Archive) -> None:
    filler = " ".join(f"word{i}" for i in range(60))
    archive(
        "docs",
        [
            Page(
                "http://x.org/mention",
                "20150101000000",
                html("Annual news", f"{filler} observatory {filler}"),
            ),
            Page(
                "http://x.org/title",
                "20150101000000",
                html("The observatory", f"{filler} {filler}"),
            ),
            Page("http://x.org/none", "20150101000000", html("Unrelated", filler)),
        ],
    )
    assert urls(search(settings, "observatory")) == ["http://x.org/title", "http://x.org/mention"]


def test_each_filter(settings: Settings, archive: Archive) -> None:
    archive("docs", PAGES)
    archive("more", [Page("http://b.example.org/x", "20180101000000", html("Heritage more", "x"))])

    def found(q: str) -> set[str]:
        return set(urls(search(settings, q, per_page=50)))

    assert found("heritage site:example.org") == {
        "http://a.example.org/unesco.html",
        "http://b.example.org/x",
    }
    assert found("site:example.org -site:b.example.org") == {
        "http://a.example.org/unesco.html",
        "http://www.example.org/fr/maires.html",
    }
    assert found("heritage host:a.example.org") == {"http://a.example.org/unesco.html"}
    assert found("heritage collection:more") == {"http://b.example.org/x"}
    assert found("heritage mime:text/plain") == {"http://other.net/report.txt"}
    assert found("mime:image/*") == {"http://other.net/logo.png"}
    assert found("lang:fr") == {"http://www.example.org/fr/maires.html"}
    assert found("heritage from:2016 to:2017") == {"http://other.net/report.txt"}
    assert found("heritage from:2017-03-04") == {
        "http://other.net/report.txt",
        "http://b.example.org/x",
    }
    assert found("heritage to:2015-12-31") == {"http://a.example.org/unesco.html"}
    assert found("collection:nosuch") == set()


def test_facets_count_every_match(settings: Settings, archive: Archive) -> None:
    archive("docs", PAGES)
    archive("more", [Page("http://b.example.org/x", "20180101000000", html("Heritage more", "x"))])
    results = search(settings, "heritage", per_page=1)
    assert results.total == 3 and len(results.hits) == 1 and results.pages == 3
    f = results.facets
    assert dict(f["collection"]) == {"docs": 2, "more": 1}
    assert dict(f["host"]) == {"a.example.org": 1, "other.net": 1, "b.example.org": 1}
    assert f["year"] == [("2018", 1), ("2017", 1), ("2015", 1)]
    assert dict(f["mime"]) == {"text/html": 2, "text/plain": 1}
    assert dict(f["lang"]) == {"en": 3}


def test_sort_and_pages(settings: Settings, archive: Archive) -> None:
    archive(
        "docs",
        [
            Page(f"http://x.org/{y}", f"{y}0101000000", html(f"Page {y}", "common"))
            for y in range(2010, 2015)
        ],
    )
    assert urls(search(settings, "common", sort="newest", per_page=2)) == [
        "http://x.org/2014",
        "http://x.org/2013",
    ]
    assert urls(search(settings, "common", sort="oldest", per_page=2, page=2)) == [
        "http://x.org/2012",
        "http://x.org/2013",
    ]
    assert urls(search(settings, "common", sort="oldest", per_page=2, page=3)) == [
        "http://x.org/2014"
    ]


def test_same_digest_is_one_document_with_every_capture(
    settings: Settings, archive: Archive
) -> None:
    body = html("Stable page", "unchanging words")
    changed = html("Stable page", "changed words")
    archive(
        "docs",
        [
            Page("http://x.org/p", "20150101000000", body),
            Page("http://x.org/p", "20160101000000", body),
            Page("http://x.org/p", "20170101000000", changed),
        ],
    )
    results = search(settings, "stable")
    assert results.total == 2
    by_text = {("unchanging" in h.snippet or "unchanging" in h.title): h for h in results.hits}
    assert search(settings, "unchanging").hits[0].timestamps == ("20150101000000", "20160101000000")
    assert search(settings, "changed").hits[0].timestamps == ("20170101000000",)
    assert by_text


def test_revisit_adds_its_capture_time(settings: Settings, archive: Archive) -> None:
    body = html("Revisited", "same payload")
    archive("docs", [Page("http://x.org/r", "20150101000000", body)])
    digest = (
        "sha1:" + __import__("base64").b32encode(__import__("hashlib").sha1(body).digest()).decode()
    )
    stats = archive("docs", [Page("http://x.org/r", "20160101000000", b"", revisit_of=digest)])
    assert stats.revisits == 1
    hits = search(settings, "revisited").hits
    assert len(hits) == 1 and hits[0].timestamps == ("20150101000000", "20160101000000")


def test_updates_are_incremental(settings: Settings, catalog: Catalog, archive: Archive) -> None:
    first = archive(
        "docs", [Page("http://x.org/1", "20150101000000", html("First crawl", "alpha"))]
    )
    assert first.files == 1
    second = archive(
        "docs",
        [
            Page("http://x.org/2", "20160101000000", html("Second crawl", "beta")),
            Page("http://x.org/1", "20160101000000", html("First crawl", "alpha")),
        ],
    )
    assert second.files == 1  # only the new WARC file was read
    assert update_search_index(settings, catalog, "docs").files == 0  # nothing new
    assert urls(search(settings, "beta")) == ["http://x.org/2"]
    assert search(settings, "alpha").hits[0].timestamps == ("20150101000000", "20160101000000")
    index = open_search_index(settings)
    assert index.count() == 2
    index.close()


def test_crash_between_commit_and_bookkeeping_changes_nothing(
    settings: Settings, catalog: Catalog, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive("docs", [Page("http://x.org/1", "20150101000000", html("One", "kept"))])

    def crash(self: FeedState, files: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(FeedState, "mark", crash)
    with pytest.raises(RuntimeError):
        archive(
            "docs",
            [
                Page("http://x.org/1", "20160101000000", html("One", "kept")),
                Page("http://x.org/2", "20160101000000", html("Two", "kept")),
            ],
        )
    monkeypatch.undo()
    assert update_search_index(settings, catalog, "docs").files == 1  # indexed again
    results = search(settings, "kept")
    assert results.total == 2
    one = next(h for h in results.hits if h.url == "http://x.org/1")
    assert one.timestamps == ("20150101000000", "20160101000000")


def test_reindex_rebuilds_from_the_warc_files(
    settings: Settings, catalog: Catalog, archive: Archive
) -> None:
    archive("docs", PAGES)
    archive("more", [Page("http://b.example.org/x", "20180101000000", html("Heritage more", "x"))])
    seen: list[tuple[int, int]] = []
    stats = rebuild_search_index(
        settings, catalog, "docs", progress=lambda d, t, n: seen.append((d, t))
    )
    assert stats.files == 1 and stats.documents == 4
    assert seen and seen[-1][0] == seen[-1][1]
    assert search(settings, "heritage").total == 3  # the other collection kept
    stats = rebuild_search_index(settings, catalog)
    assert stats.files == 2 and search(settings, "heritage").total == 3
    with sqlite3.connect(search_dir(settings) / "state.db") as db:
        assert db.execute("SELECT count(*) FROM indexed_file").fetchone() == (2,)


def test_bad_warc_records_are_skipped_and_listed(
    settings: Settings, catalog: Catalog, tmp_path: Path, archive: Archive
) -> None:
    from tests.search.conftest import write_warc
    from vellum.index.importer import Importer

    archive("docs", [Page("http://x.org/ok", "20150101000000", html("Fine", "first"))])
    good = write_warc(
        tmp_path / "two.warc.gz",
        [
            Page("http://x.org/a", "20150101000000", html("Alpha page", "good words")),
            Page("http://x.org/b", "20150101000001", html("Beta page", "good words")),
        ],
    )
    data = bytearray(good.read_bytes())
    second = data.find(b"\x1f\x8b", 10)
    data[second + 30 : second + 60] = b"\x00" * 30  # corrupt the second record's gzip member
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(bytes(data))
    Importer(settings, catalog, workers=1).run("docs", [broken])
    stats = update_search_index(settings, catalog, "docs", workers=1)
    assert stats.files == 1
    assert any("broken.warc.gz:" in p for p in stats.problems)
    assert urls(search(settings, "alpha")) == ["http://x.org/a"]
