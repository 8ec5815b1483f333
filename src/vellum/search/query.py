"""The search query language, parsed into a small tree (pure; no index involved).

    words            maires francophones        every word must occur (AND)
    phrases          "maires francophones"      the words next to each other
    operators        a OR b, a AND b, NOT a, -a, (a OR b) c
    prefix           franco*
    filters          site:example.org  host:www.example.org  collection:unesco
                     mime:text/html (or mime:html, mime:pdf)  lang:fr
                     from:2015  to:2016-06-30  (also YYYY-MM, YYYYMMDD, 14 digits)

A filter preceded by `-` excludes. Several values of one filter are alternatives
(`site:a.org site:b.org`). Bad syntax raises `InvalidInput` with a one-line reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vellum.errors import InvalidInput
from vellum.urls.timestamps import pad_high, pad_low

__all__ = [
    "FILTERS",
    "And",
    "Filters",
    "Node",
    "Not",
    "Or",
    "ParsedQuery",
    "Phrase",
    "Word",
    "parse_query",
]

FILTERS = ("site", "host", "collection", "mime", "lang", "from", "to")
_MIME_ALIASES = {
    "html": "text/html",
    "pdf": "application/pdf",
    "text": "text/plain",
    "txt": "text/plain",
    "xhtml": "application/xhtml+xml",
}
_DATE = re.compile(r"^(\d{4})(?:-?(\d{2})(?:-?(\d{2})(\d{0,6}))?)?$")
_MAX_LENGTH = 2000
_MAX_TERMS = 64


@dataclass(frozen=True)
class Word:
    """One word (it may analyse into several tokens); `prefix` when written `word*`."""

    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    """Words that must occur next to each other, in order."""

    text: str


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Word | Phrase | Not | And | Or


@dataclass
class Filters:
    """Field filters: values within one field are alternatives; `excluded` values exclude."""

    include: dict[str, list[str]] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)
    date_from: str | None = None  # 14-digit, inclusive
    date_to: str | None = None  # 14-digit, inclusive

    def add(self, name: str, value: str, negated: bool) -> None:
        target = self.exclude if negated else self.include
        target.setdefault(name, []).append(value)


@dataclass
class ParsedQuery:
    """A query: the text part (None when only filters were given) and the filters."""

    text: Node | None
    filters: Filters


def parse_query(query: str) -> ParsedQuery:
    """Parse a query string; raises InvalidInput saying what is wrong and where."""
    query = query.strip()
    if not query:
        raise InvalidInput("empty query: type some words to search for")
    if len(query) > _MAX_LENGTH:
        raise InvalidInput(f"query too long: at most {_MAX_LENGTH} characters")
    filters = Filters()
    tokens = _tokens(query, filters)
    if sum(1 for t in tokens if t.kind in ("word", "phrase")) > _MAX_TERMS:
        raise InvalidInput(f"too many words in the query: at most {_MAX_TERMS}")
    if not tokens:
        if not filters.include and not filters.exclude and not _has_dates(filters):
            raise InvalidInput("empty query: type some words to search for")
        return ParsedQuery(None, filters)
    parser = _Parser(tokens)
    node = parser.expression()
    if parser.pos < len(tokens):
        tok = tokens[parser.pos]
        raise InvalidInput(f"unexpected {tok.shown} at column {tok.column}: no '(' to close")
    return ParsedQuery(node, filters)


def _has_dates(filters: Filters) -> bool:
    return filters.date_from is not None or filters.date_to is not None


@dataclass(frozen=True)
class _Token:
    kind: str  # word, phrase, and, or, not, lparen, rparen
    text: str
    column: int
    prefix: bool = False

    @property
    def shown(self) -> str:
        return {"lparen": "'('", "rparen": "')'"}.get(self.kind, repr(self.text))


_OPERATORS = {"AND": "and", "OR": "or", "NOT": "not", "&&": "and", "||": "or"}


def _tokens(query: str, filters: Filters) -> list[_Token]:
    """Split into tokens; field filters go straight into `filters`."""
    out: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        column = i + 1
        if ch in "()":
            out.append(_Token("lparen" if ch == "(" else "rparen", ch, column))
            i += 1
            continue
        negated = False
        if ch in "-+" and i + 1 < n and not query[i + 1].isspace():
            negated = ch == "-"
            i += 1
            ch = query[i]
        if ch == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise InvalidInput(
                    f'unbalanced quote at column {i + 1}: close the phrase with another "'
                )
            phrase = query[i + 1 : end].strip()
            i = end + 1
            if not phrase:
                continue
            if negated:
                out.append(_Token("not", "-", column))
            out.append(_Token("phrase", phrase, column, prefix=query[i : i + 1] == "*"))
            i += 1 if query[i : i + 1] == "*" else 0
            continue
        j = i
        while j < n and not query[j].isspace() and query[j] not in '()"':
            j += 1
        word = query[i:j]
        name, colon, value = word.partition(":")
        if colon and name.lower() in FILTERS:
            if not value and j < n and query[j] == '"':
                end = query.find('"', j + 1)
                if end < 0:
                    raise InvalidInput(
                        f'unbalanced quote at column {j + 1}: close the value with another "'
                    )
                value, j = query[j + 1 : end], end + 1
            _add_filter(filters, name.lower(), value.strip(), negated, column)
            i = j
            continue
        i = j
        if not negated and word in _OPERATORS:
            out.append(_Token(_OPERATORS[word], word, column))
            continue
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if not word:
            raise InvalidInput(f"'*' at column {column} must end a word, as in franco*")
        if "*" in word or "?" in word:
            raise InvalidInput(f"wildcards only at the end of a word (column {column}): {word}")
        if negated:
            out.append(_Token("not", "-", column))
        out.append(_Token("word", word, column, prefix=prefix))
    return out


def _add_filter(filters: Filters, name: str, value: str, negated: bool, column: int) -> None:
    if not value:
        raise InvalidInput(f"{name}: at column {column} needs a value, as in {_example(name)}")
    if name in ("from", "to"):
        if negated:
            raise InvalidInput(f"-{name}: is not allowed; use from: and to: for a date range")
        stamp = _date(value, name == "to")
        if name == "from":
            filters.date_from = stamp
        else:
            filters.date_to = stamp
        return
    if name == "mime":
        value = _MIME_ALIASES.get(value.lower(), value.lower())
    elif name in ("site", "host"):
        value = value.lower().removeprefix("http://").removeprefix("https://").split("/", 1)[0]
        if name == "site":
            value = value.removeprefix("www.")
    elif name == "lang":
        value = value.lower()
    filters.add(name, value, negated)


def _date(value: str, high: bool) -> str:
    match = _DATE.match(value)
    if not match:
        raise InvalidInput(
            f"bad date {value!r}: use YYYY, YYYY-MM, YYYY-MM-DD or a 14-digit timestamp"
        )
    digits = "".join(g or "" for g in match.groups())
    if len(digits) % 2:
        raise InvalidInput(f"bad date {value!r}: the time part must be whole hours/minutes")
    try:
        return pad_high(digits) if high else pad_low(digits)
    except ValueError as exc:
        raise InvalidInput(f"bad date {value!r}: {exc}") from None


def _example(name: str) -> str:
    return {
        "site": "site:example.org",
        "host": "host:www.example.org",
        "collection": "collection:unesco",
        "mime": "mime:text/html",
        "lang": "lang:fr",
        "from": "from:2015-06",
        "to": "to:2016",
    }[name]


class _Parser:
    """or := and (OR and)* ; and := unary (AND? unary)* ; unary := NOT unary | atom."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expression(self) -> Node:
        children = [self._and()]
        while (tok := self._peek()) is not None and tok.kind == "or":
            self.pos += 1
            children.append(self._and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _and(self) -> Node:
        children = [self._unary()]
        while (tok := self._peek()) is not None and tok.kind not in ("or", "rparen"):
            if tok.kind == "and":
                self.pos += 1
            children.append(self._unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def _unary(self) -> Node:
        tok = self._peek()
        if tok is None:
            last = self.tokens[-1]
            raise InvalidInput(f"the query ends after {last.shown}: something must follow it")
        self.pos += 1
        if tok.kind == "not":
            return Not(self._unary())
        if tok.kind == "word":
            return Word(tok.text, tok.prefix)
        if tok.kind == "phrase":
            return Word(tok.text, True) if tok.prefix else Phrase(tok.text)
        if tok.kind == "lparen":
            if (nxt := self._peek()) is not None and nxt.kind == "rparen":
                raise InvalidInput(f"empty parentheses at column {tok.column}")
            inner = self.expression()
            close = self._peek()
            if close is None or close.kind != "rparen":
                raise InvalidInput(f"unbalanced parenthesis at column {tok.column}: add a ')'")
            self.pos += 1
            return inner
        raise InvalidInput(f"unexpected {tok.shown} at column {tok.column}")
