"""Turn a parsed query (`vellum.search.query`) into tantivy queries."""

from __future__ import annotations

from itertools import pairwise

import tantivy

from vellum.search.model import Hidden, SearchRequest
from vellum.search.pairs import PAIR_FIELDS, CommonWords
from vellum.search.query import And, Filters, Node, Not, Or, Phrase, Word

__all__ = ["BOOSTS", "TEXT_FIELDS", "compile_request"]

# Where words are looked for, and how much a match there counts.
# The main text and the text around it ("rest") are separate fields: a word of the main
# text counts 2.5 (it used to count in a main field, 1.5, and a full-text field, 1.0).
BOOSTS = {"title": 4.0, "description": 1.5, "main": 2.5, "rest": 1.0, "urltext": 1.0}
TEXT_FIELDS = ("title", "description", "main", "rest")
_FILTER_FIELDS = {
    "site": "domains",
    "host": "host",
    "collection": "collection",
    "mime": "mime",
    "lang": "lang",
}

Must, Should, MustNot = tantivy.Occur.Must, tantivy.Occur.Should, tantivy.Occur.MustNot


def compile_request(
    request: SearchRequest,
    schema: tantivy.Schema,
    analyzer: tantivy.TextAnalyzer,
    common: CommonWords | None = None,
) -> tuple[tantivy.Query | None, tantivy.Query | None]:
    """The whole query (None: nothing can match) and its text part alone (for snippets).

    `common`: the index's common words, whose pairs answer phrases without positions.
    """
    if request.collections is not None and not request.collections:
        return None, None
    text = None
    if request.query.text is not None:
        text = _Compiler(schema, analyzer, common).node(request.query.text)
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    if text is not None:
        clauses.append((Must, text))
    elif request.query.text is not None:
        return None, None  # only words that analyse to nothing, such as punctuation
    if request.collections is not None:
        allowed = tantivy.Query.term_set_query(schema, "collection", list(request.collections))
        clauses.append((Must, tantivy.Query.const_score_query(allowed, 0.0)))
    clauses.extend(_filters(request.query.filters, schema))
    clauses.extend((MustNot, _hidden(h, schema)) for h in request.hidden)
    if not any(occur is Must for occur, _ in clauses):
        clauses.append((Must, tantivy.Query.all_query()))
    return tantivy.Query.boolean_query(clauses), text


def _filters(filters: Filters, schema: tantivy.Schema) -> list[tuple[tantivy.Occur, tantivy.Query]]:
    out: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for occur, table in ((Must, filters.include), (MustNot, filters.exclude)):
        for name, values in table.items():
            field = _FILTER_FIELDS[name]
            parts = [_value_query(schema, field, v) for v in values]
            query = parts[0] if len(parts) == 1 else _any(parts)
            out.append((occur, tantivy.Query.const_score_query(query, 0.0)))
    if filters.date_from is not None or filters.date_to is not None:
        low = int(filters.date_from) if filters.date_from else None
        high = int(filters.date_to) if filters.date_to else None
        dates = tantivy.Query.range_query(schema, "dates", tantivy.FieldType.Unsigned, low, high)
        out.append((Must, tantivy.Query.const_score_query(dates, 0.0)))
    return out


def _hidden(hidden: Hidden, schema: tantivy.Schema) -> tantivy.Query:
    """The documents of one collection that its exclusions or embargo hide."""
    reasons = [
        tantivy.Query.regex_query(schema, "surtkey", _literal(prefix) + "(?s:.*)")
        for prefix in hidden.prefixes
    ]
    if hidden.exact:
        reasons.append(tantivy.Query.term_set_query(schema, "surtkey", list(hidden.exact)))
    if hidden.cutoff:  # no capture before the cutoff
        cutoff = int(hidden.cutoff[:14].ljust(14, "0"))
        earlier = tantivy.Query.range_query(
            schema, "dates", tantivy.FieldType.Unsigned, None, cutoff, include_upper=False
        )
        reasons.append(
            tantivy.Query.boolean_query([(Must, tantivy.Query.all_query()), (MustNot, earlier)])
        )
    if not reasons:
        return tantivy.Query.empty_query()
    collection = tantivy.Query.term_query(schema, "collection", hidden.collection)
    return tantivy.Query.boolean_query([(Must, collection), (Must, _any(reasons))])


def _literal(text: str) -> str:
    """A regular expression (tantivy's syntax) matching `text` alone."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):X}}}" for c in text)


def _value_query(schema: tantivy.Schema, field: str, value: str) -> tantivy.Query:
    if field == "mime" and value.endswith("/*"):
        return tantivy.Query.regex_query(schema, field, _literal(value[:-1]) + "(?s:.*)")
    return tantivy.Query.term_query(schema, field, value)


def _any(queries: list[tantivy.Query]) -> tantivy.Query:
    return tantivy.Query.boolean_query([(Should, q) for q in queries])


class _Compiler:
    def __init__(
        self, schema: tantivy.Schema, analyzer: tantivy.TextAnalyzer, common: CommonWords | None
    ) -> None:
        self._schema = schema
        self._analyzer = analyzer
        self._common = common

    def node(self, node: Node) -> tantivy.Query | None:
        """The query for a node; None for words that analyse to no token at all."""
        if isinstance(node, Word):
            return self._words(node.text, node.prefix)
        if isinstance(node, Phrase):
            return self._words(node.text, prefix=False)
        if isinstance(node, Not):
            inner = self.node(node.child)
            if inner is None:
                return None
            return tantivy.Query.boolean_query(
                [(Must, tantivy.Query.all_query()), (MustNot, inner)]
            )
        if isinstance(node, Or):
            parts = [q for q in (self.node(c) for c in node.children) if q is not None]
            return _any(parts) if parts else None
        return self._and(node)

    def _and(self, node: And) -> tantivy.Query | None:
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for child in node.children:
            if isinstance(child, Not):
                inner = self.node(child.child)
                if inner is not None:
                    clauses.append((MustNot, inner))
            else:
                query = self.node(child)
                if query is not None:
                    clauses.append((Must, query))
        if not clauses:
            return None
        if not any(occur is Must for occur, _ in clauses):
            clauses.append((Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

    def _words(self, text: str, prefix: bool) -> tantivy.Query | None:
        tokens = self._analyzer.analyze(text)
        if not tokens:
            return None
        per_field = []
        for field, boost in BOOSTS.items():
            if prefix:
                query = tantivy.Query.phrase_prefix_query(self._schema, field, list(tokens))
            elif len(tokens) == 1:
                query = tantivy.Query.term_query(self._schema, field, tokens[0])
            else:
                query = self._phrase(field, list(tokens))
            per_field.append(query if boost == 1.0 else tantivy.Query.boost_query(query, boost))
        return _any(per_field)

    def _phrase(self, field: str, tokens: list[str]) -> tantivy.Query:
        """Words side by side in one field.

        Where adjacent words are both common, the index has their pair as a number
        (`vellum.search.pairs`): two common words need only that number (and the words
        themselves, which give the score); a longer phrase checks positions only in the
        documents that have its common pairs.
        """
        schema = self._schema
        pairs: list[int] = []
        if self._common is not None and field in PAIR_FIELDS:
            number = PAIR_FIELDS.index(field)
            found = (self._common.pair(number, a, b) for a, b in pairwise(tokens))
            pairs = sorted({n for n in found if n is not None})
        words: list[str | tuple[int, str]] = list(tokens)
        if not pairs:
            return tantivy.Query.phrase_query(schema, field, words)
        clauses = [
            (
                Must,
                tantivy.Query.const_score_query(tantivy.Query.term_query(schema, "pairs", n), 0.0),
            )
            for n in pairs
        ]
        if len(tokens) == 2:
            clauses += [(Must, tantivy.Query.term_query(schema, field, t)) for t in tokens]
        else:
            clauses.append((Must, tantivy.Query.phrase_query(schema, field, words)))
        return tantivy.Query.boolean_query(clauses)
