"""The query language: a table of queries and the trees they parse into, and bad syntax."""

from __future__ import annotations

import pytest

from vellum.errors import InvalidInput
from vellum.search.query import And, Not, Or, Phrase, Word, parse_query


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("maires", Word("maires")),
        ("maires francophones", And((Word("maires"), Word("francophones")))),
        ('"maires francophones"', Phrase("maires francophones")),
        ("franco*", Word("franco", prefix=True)),
        ('"association inter"*', Word("association inter", prefix=True)),
        ("a OR b", Or((Word("a"), Word("b")))),
        ("a b OR c", Or((And((Word("a"), Word("b"))), Word("c")))),
        ("a AND (b OR c)", And((Word("a"), Or((Word("b"), Word("c")))))),
        ("a -b", And((Word("a"), Not(Word("b"))))),
        ("a NOT b", And((Word("a"), Not(Word("b"))))),
        ('-"x y" z', And((Not(Phrase("x y")), Word("z")))),
        ("http://example.org/a", Word("http://example.org/a")),
    ],
)
def test_parse(text: str, tree: object) -> None:
    assert parse_query(text).text == tree


def test_filters() -> None:
    parsed = parse_query(
        "maires site:www.Example.org host:a.example.org collection:unesco mime:pdf lang:FR "
        "-mime:image/png from:2015-06 to:2016 -site:spam.org"
    )
    assert parsed.text == Word("maires")
    f = parsed.filters
    assert f.include == {
        "site": ["example.org"],
        "host": ["a.example.org"],
        "collection": ["unesco"],
        "mime": ["application/pdf"],
        "lang": ["fr"],
    }
    assert f.exclude == {"mime": ["image/png"], "site": ["spam.org"]}
    assert (f.date_from, f.date_to) == ("20150601000000", "20161231235959")


def test_filters_alone_are_a_query() -> None:
    parsed = parse_query("site:example.org")
    assert parsed.text is None and parsed.filters.include == {"site": ["example.org"]}


def test_quoted_filter_value() -> None:
    assert parse_query('mime:"text/html" x').filters.include == {"mime": ["text/html"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ('"maires francophones', "unbalanced quote at column 1"),
        ('a "b', "unbalanced quote at column 3"),
        ("(a OR b", "unbalanced parenthesis at column 1"),
        ("a OR b)", "unexpected ')' at column 7"),
        ("a OR", "ends after 'OR'"),
        ("NOT", "ends after 'NOT'"),
        ("()", "empty parentheses"),
        ("*", "'*' at column 1 must end a word"),
        ("fr*nco", "wildcards only at the end"),
        ("from:yesterday", "bad date 'yesterday'"),
        ("site:", "site: at column 1 needs a value"),
        ("-from:2015", "-from: is not allowed"),
        ("x" * 3000, "query too long"),
    ],
)
def test_bad_syntax_says_what_and_where(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_query(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
