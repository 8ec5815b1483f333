"""Main text and the text around it, head facts read from markup, and batched upserts."""

from __future__ import annotations

from pathlib import Path

from tests.search.conftest import Archive, Page
from vellum.search.extract import _head_facts, _outside, extract
from vellum.search.feed import open_search_index
from vellum.search.model import SearchDoc, SearchRequest
from vellum.search.query import parse_query
from vellum.search.tantivy_index import TantivySearchIndex
from vellum.settings import Settings

ARTICLE = " ".join(["The council of mayors met in Dakar to discuss water and schools."] * 8)


def page(main: str, nav: str = "Home About Contact", footer: str = "Copyright notice") -> bytes:
    return (
        "<!doctype html><html lang='en'><head><title>Mayors</title></head><body>"
        f"<header><nav><ul>{''.join(f'<li>{w}</li>' for w in nav.split())}</ul></nav></header>"
        f"<main><article><h1>Meeting</h1><p>{main}</p></article></main>"
        f"<footer><p>{footer}</p></footer></body></html>"
    ).encode()


def test_boilerplate_is_the_text_around_the_main_content() -> None:
    got = extract(page(ARTICLE, footer="Sitemapword footer"), "text/html")
    assert "Dakar" in got.main and "Home" not in got.main and "Sitemapword" not in got.main
    assert "Home" in got.boilerplate and "Sitemapword" in got.boilerplate
    assert "Dakar" not in got.boilerplate
    assert all(word in got.text for word in ("Home", "Dakar", "Sitemapword"))


def test_text_around_the_main_content_falls_back_to_all_of_it() -> None:
    assert _outside("a b c d", "b c") == "a d"
    assert _outside("a b c d", "a b c d") == ""
    assert _outside("a b c d", "d b") == "a b c d"  # not one stretch: keep everything
    assert _outside("a b c d", "") == "a b c d"
    plain = extract(b"Just some plain words in a text file.", "text/plain")
    assert plain.main == plain.text and plain.boilerplate == ""


def test_head_facts_come_from_the_markup_whatever_its_spelling() -> None:
    head = (
        "<!DOCTYPE html><HTML class=x LANG='de-AT'><head>"
        '<meta name="keywords" content="not this">'
        "<meta content=\"Caf&eacute; &amp; B&auml;ckerei\" NAME='Description' />"
        "</head><body><meta name=description content=late></body></HTML>"
    )
    assert _head_facts(head) == ("Café & Bäckerei", "de-AT")
    assert _head_facts("<html><body><meta name=description content=late>") == ("", "")
    assert _head_facts("no markup at all") == ("", "")
    got = extract(head.encode(), "text/html")
    assert got.description == "Café & Bäckerei" and got.lang == "de"


def test_words_in_the_navigation_are_found_and_rank_below_main_text(
    settings: Settings, archive: Archive
) -> None:
    archive(
        "docs",
        [
            Page("http://a.org/nav", "20200101000000", page(ARTICLE, nav="Home Zanzibar")),
            Page("http://a.org/main", "20200101000001", page(ARTICLE + " Zanzibar.")),
        ],
    )
    index = open_search_index(settings)
    try:
        hits = index.search(SearchRequest(parse_query("zanzibar"), None)).hits
        assert [hit.url for hit in hits] == ["http://a.org/main", "http://a.org/nav"]
        assert "<b>Zanzibar</b>" in hits[1].snippet  # snippets cover the navigation too
    finally:
        index.close()


def doc(timestamp: str, word: str = "alpha") -> SearchDoc:
    return SearchDoc(
        collection="c",
        url="http://x.org/p",
        surt="org,x)/p",
        host="x.org",
        digest="D1",
        timestamps=[timestamp],
        mime="text/html",
        status=200,
        title=f"Title {word}",
        main=f"main words {word}",
        boilerplate="menu",
    )


def test_upsert_many_merges_committed_pending_and_repeated_keys(tmp_path: Path) -> None:
    index = TantivySearchIndex(tmp_path / "index")
    try:
        index.upsert_many([doc("20100101000000")])
        index.commit()
        index.upsert_many([doc("20120101000000"), doc("20110101000000")])  # committed key, twice
        assert index.pending() == 1
        index.upsert_many([doc("20130101000000")])  # a pending key
        index.commit()
        assert index.count() == 1
        stored = index.get(doc("x").key)
        assert stored is not None
        assert stored.timestamps == [f"20{y}0101000000" for y in (10, 11, 12, 13)]
        assert (stored.main, stored.boilerplate, stored.text) == (
            "main words alpha",
            "menu",
            "main words alpha menu",
        )
        assert (stored.url, stored.surt, stored.digest) == ("http://x.org/p", "org,x)/p", "D1")
    finally:
        index.close()


def test_revisit_of_a_pending_document_is_merged_at_the_commit(tmp_path: Path) -> None:
    index = TantivySearchIndex(tmp_path / "index")
    try:
        index.upsert_many([doc("20100101000000")])
        assert index.get(doc("x").key) is None  # pending: not searchable yet
        assert index.add_capture(doc("x").key, "20150101000000")  # a revisit of it
        assert index.add_capture(doc("x").key, "20150101000000")  # the same time again
        assert not index.add_capture("no-such-key", "20150101000000")
        index.commit()
        stored = index.get(doc("x").key)
        assert stored is not None and stored.timestamps == ["20100101000000", "20150101000000"]
        assert index.count() == 1 and index.pending() == 0
        assert (stored.main, stored.boilerplate) == ("main words alpha", "menu")
    finally:
        index.close()
