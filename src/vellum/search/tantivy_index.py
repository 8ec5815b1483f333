"""The default `SearchIndex`: tantivy on disk, one document per payload of a URL.

Writes are buffered and become visible (and durable) together at `commit`, which
tantivy makes atomic: a crash loses the uncommitted batch, never a committed one.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from vellum.errors import VellumError
from vellum.search.compile import TEXT_FIELDS, compile_request
from vellum.search.model import (
    FACETS,
    Hit,
    SearchDoc,
    SearchIndex,
    SearchRequest,
    SearchResults,
)
from vellum.search.pairs import CommonWords

__all__ = ["SCHEMA_VERSION", "TantivySearchIndex"]

SCHEMA_VERSION = "3"  # 3: word pairs (`vellum.search.pairs`), SURT keys for exclusions
TOKENIZER = "vellum"
# Fast phrases (`vellum.search.pairs`), on in a new index and chosen again by `vellum
# search reindex --fast-phrases/--no-fast-phrases`: the marker file asks for the common
# words to be learned from the first documents; once learned they are in COMMON_WORDS,
# and every document added carries the pairs of them that it has.
FAST_PHRASES = "FAST_PHRASES"
COMMON_WORDS = "COMMON_WORDS"
_FAST_PHRASES_NOTE = "learn the common words from the first documents\n"
_SNIPPET_CHARS = 220
_FACET_SIZE = 10
_LOCK_WAIT = 60.0  # seconds to wait for another process's writer
_HEAP = 256_000_000  # bytes of indexing memory, shared by the writer's threads
# One indexing thread: extraction keeps the other cores busy (one process per core), and
# one thread makes fewer segments to merge (measured: ~10% less CPU per page on 2 cores).
_THREADS = 1


def build_analyzer() -> tantivy.TextAnalyzer:
    """Words split on non-alphanumerics, lowercased, accents folded (so `ete` finds `été`)."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def build_schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    # Terms only looked up whole need no frequencies or positions ("basic"); values only
    # shown or read back (URL, SURT, digest, capture times) are stored, not indexed.
    b.add_text_field("key", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field(
        "collection", stored=True, fast=True, tokenizer_name="raw", index_option="basic"
    )
    b.add_bytes_field("url", stored=True)
    b.add_text_field("urltext", tokenizer_name=TOKENIZER)
    b.add_bytes_field("surt", stored=True)
    b.add_text_field("surtkey", tokenizer_name="raw", index_option="basic")  # exclusions
    b.add_text_field("host", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("domains", tokenizer_name="raw", index_option="basic")
    b.add_bytes_field("digest", stored=True)
    b.add_bytes_field("timestamps", stored=True)  # 14-digit times, space-separated
    b.add_unsigned_field("dates", indexed=True, fast=True)
    b.add_unsigned_field("year", indexed=True, fast=True)
    b.add_unsigned_field("sortdate", stored=True, fast=True)
    b.add_text_field("mime", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_unsigned_field("status", stored=True, indexed=True)
    b.add_text_field("lang", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_unsigned_field("outlinks", stored=True)
    b.add_unsigned_field("pairs", indexed=True)  # adjacent common words (pairs.py)
    # "main" is the main text, "rest" the text around it: each word is tokenized once.
    for name in TEXT_FIELDS:
        b.add_text_field(name, stored=name in ("title", "description"), tokenizer_name=TOKENIZER)
    b.add_bytes_field("mainbody", stored=True)  # for snippets and re-adding
    b.add_bytes_field("restbody", stored=True)
    return b.build()


def domains_of(host: str) -> list[str]:
    """`a.b.example.org` → itself, `b.example.org`, `example.org`, `org` (for site:)."""
    labels = host.split(".")
    out = [".".join(labels[i:]) for i in range(len(labels))]
    if host.startswith("www."):
        out.append(host[4:])
    return out


class TantivySearchIndex:
    """Full-text index under `path` (created if missing)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._schema = build_schema()
        self._analyzer = build_analyzer()
        version = path / "VELLUM_SCHEMA"
        try:
            path.mkdir(parents=True, exist_ok=True)
            if tantivy.Index.exists(str(path)):
                if not version.exists() or version.read_text().strip() != SCHEMA_VERSION:
                    raise VellumError(
                        f"the search index in {path} was made by another Vellum version; "
                        "rebuild it with 'vellum search reindex'"
                    )
                self._index = tantivy.Index.open(str(path))
            else:
                self._index = tantivy.Index(self._schema, path=str(path))
                version.write_text(SCHEMA_VERSION + "\n")
                (path / FAST_PHRASES).write_text(_FAST_PHRASES_NOTE)
        except (OSError, ValueError) as exc:
            raise VellumError(f"cannot open the search index in {path}: {exc}") from None
        self._index.register_tokenizer(TOKENIZER, self._analyzer)
        self._common: CommonWords | None = None  # see _common_words()
        self._common_stamp: tuple[int, int, int] | None = None
        self._writer: tantivy.IndexWriter | None = None
        # The documents added since the last commit (tantivy cannot search them yet), by
        # key: their collection and capture times. That is all a repeated key needs (the
        # same key is the same payload, so the same text), and it keeps memory small so
        # that commits, which make segments to merge, can be rare. The feed commits when
        # pending() or pending_chars() reaches its bound.
        self._pending: dict[str, _Pending] = {}
        self._pending_chars = 0
        # Capture times of revisits of pending documents, applied after the next commit.
        self._deferred: dict[str, list[str]] = {}
        self._clear = False
        self._committed_empty = self.count() == 0

    @classmethod
    def recreate(cls, path: Path, fast_phrases: bool | None = None) -> TantivySearchIndex:
        """An empty index in place of whatever is at `path`.

        An index of this version is emptied in place (a running server sees the change);
        one made by another version is removed first. `fast_phrases`: whether the new
        index learns common words and indexes their pairs (None: as the old one did, or
        on if it was made by another version).
        """
        try:
            index = cls(path)
        except VellumError:
            shutil.rmtree(path, ignore_errors=True)
            index = cls(path)
        if fast_phrases is None:
            fast_phrases = index.fast_phrases
        index._open_writer()  # holds the lock: no other process adds documents meanwhile
        try:
            (path / COMMON_WORDS).unlink(missing_ok=True)  # first: queries use positions
            if fast_phrases:
                (path / FAST_PHRASES).write_text(_FAST_PHRASES_NOTE)
            else:
                (path / FAST_PHRASES).unlink(missing_ok=True)
        except OSError as exc:
            raise VellumError(f"cannot reset the search index in {path}: {exc}") from None
        index._common_words()  # none now
        index._clear = True
        index.commit()
        return index

    @property
    def fast_phrases(self) -> bool:
        """Whether this index answers phrases of common words from word pairs (or will)."""
        return (self._path / FAST_PHRASES).exists()

    # writing

    def get(self, key: str) -> SearchDoc | None:
        """The committed document with this key (pending ones are found after the commit)."""
        if self._committed_empty:
            return None
        searcher = self._index.searcher()
        query = tantivy.Query.term_query(self._schema, "key", key)
        hits = searcher.search(query, 1, count=False).hits
        return _stored_doc(searcher.doc(hits[0][1])) if hits else None

    def upsert(self, doc: SearchDoc) -> None:
        self.upsert_many([doc])

    def upsert_many(self, docs: list[SearchDoc]) -> None:
        """`upsert` each document, looking all their keys up in the index at once."""
        if docs:
            self._open_writer()
            if self._common is None and self._may_learn():
                self._learn_common_words(docs)
        unseen = [doc.key for doc in docs if doc.key not in self._pending]
        committed = self._committed(unseen)
        for doc in docs:
            pending = self._pending.get(doc.key)
            earlier = pending.timestamps if pending is not None else None
            if earlier is None and doc.key in committed:
                earlier = committed[doc.key].timestamps
            if earlier is not None:
                doc.merge_timestamps(earlier)
            self._add(doc, replace=earlier is not None)

    def _may_learn(self) -> bool:
        """Fast phrases asked for, and no document yet that was added without pairs."""
        if self._pending or not self.fast_phrases:
            return False
        self._index.reload()  # what other processes committed before we took the lock
        return self.count() == 0

    def _learn_common_words(self, docs: list[SearchDoc]) -> None:
        """Learn the common words from the first documents of the index (once).

        Called with the writer's lock held, so two processes that start filling the
        same new index agree: the second one's writer reads what the first learned.
        """
        texts = (t for d in docs for t in (d.title, d.description, d.main, d.boilerplate))
        common = CommonWords.learn(texts)
        path = self._path / COMMON_WORDS
        try:
            common.save(path)
        except OSError as exc:
            raise VellumError(f"cannot write {path}: {exc}") from None
        self._common_words()

    def _common_words(self) -> CommonWords | None:
        """The common words on disk now (None: phrases use positions).

        Read again whenever the file changes: a reindex in another process removes the
        words first and learns new ones, and a server must follow.
        """
        path = self._path / COMMON_WORDS
        try:
            st = path.stat()
        except FileNotFoundError:
            self._common, self._common_stamp = None, None
            return None
        except OSError as exc:
            raise VellumError(f"cannot read {path}: {exc}") from None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._common_stamp:
            self._common, self._common_stamp = CommonWords.load(path), stamp
        return self._common

    def _committed(self, keys: list[str]) -> dict[str, SearchDoc]:
        """The committed documents with these keys, in one query."""
        if self._committed_empty or not keys:
            return {}
        searcher = self._index.searcher()
        query = tantivy.Query.term_set_query(self._schema, "key", keys)
        hits = searcher.search(query, len(keys), count=False).hits
        found = (_stored_doc(searcher.doc(address)) for _score, address in hits)
        return {doc.key: doc for doc in found}

    def add_capture(self, key: str, timestamp: str) -> bool:
        pending = self._pending.get(key)
        if pending is not None:  # its text is in the writer only: merged after the commit
            if timestamp not in pending.timestamps:
                pending.timestamps.append(timestamp)
                self._deferred.setdefault(key, []).append(timestamp)
            return True
        doc = self.get(key)
        if doc is None:
            return False
        doc.merge_timestamps([timestamp])
        self._add(doc, replace=True)
        return True

    def _add(self, doc: SearchDoc, replace: bool) -> None:
        """Hand a document to the writer now, so tantivy indexes while we extract more."""
        writer = self._open_writer()
        if replace:  # deletes what was added before it, committed or not
            writer.delete_documents_by_term("key", doc.key)
        writer.add_document(self._document(doc))
        if doc.key not in self._pending:
            self._pending_chars += _chars(doc)
        self._pending[doc.key] = _Pending(doc.collection, list(doc.timestamps))

    def delete_collection(self, slug: str) -> None:
        self._open_writer().delete_documents_by_term("collection", slug)
        self._pending = {k: p for k, p in self._pending.items() if p.collection != slug}
        self._deferred = {k: t for k, t in self._deferred.items() if k in self._pending}

    def pending(self) -> int:
        """Documents added since the last commit."""
        return len(self._pending)

    def pending_chars(self) -> int:
        """Characters of text held by the documents added since the last commit."""
        return self._pending_chars

    def commit(self) -> None:
        if self._writer is None:
            return
        if self._clear:
            self._writer.delete_all_documents()
            self._clear = False
        self._writer.commit()
        self._pending.clear()
        self._pending_chars = 0
        self._index.reload()
        self._committed_empty = self.count() == 0
        deferred, self._deferred = self._deferred, {}
        if deferred:  # revisits of documents that were pending: searchable now
            for key, doc in self._committed(list(deferred)).items():
                doc.merge_timestamps(deferred[key])
                self._add(doc, replace=True)
            self.commit()

    def _open_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            deadline = time.monotonic() + _LOCK_WAIT
            while True:
                try:
                    self._writer = self._index.writer(heap_size=_HEAP, num_threads=_THREADS)
                    break
                except ValueError as exc:
                    if "LockBusy" not in str(exc) or time.monotonic() > deadline:
                        raise VellumError(
                            "the search index is being updated by another process; "
                            "try again when it is done"
                        ) from None
                    time.sleep(0.5)
            self._common_words()  # what the documents this writer adds are made with
        return self._writer

    def _document(self, doc: SearchDoc) -> tantivy.Document:
        out = tantivy.Document()
        for name, value in (
            ("key", doc.key),
            ("collection", doc.collection),
            ("urltext", doc.url),
            ("host", doc.host),
            ("mime", doc.mime),
            ("lang", doc.lang),
            ("title", doc.title),
            ("description", doc.description),
            ("main", doc.main),
            ("rest", doc.boilerplate),
        ):
            out.add_text(name, value)
        out.add_text("surtkey", doc.surt)
        for domain in domains_of(doc.host):
            out.add_text("domains", domain)
        dates = [int(ts) for ts in doc.timestamps]
        for date in dates:
            out.add_unsigned("dates", date)
        for name, raw in (
            ("url", doc.url),
            ("surt", doc.surt),
            ("digest", doc.digest),
            ("timestamps", " ".join(doc.timestamps)),
        ):
            out.add_bytes(name, raw.encode("utf-8", "surrogatepass"))
        for year in sorted({d // 10**10 for d in dates}):
            out.add_unsigned("year", year)
        out.add_unsigned("sortdate", max(dates))
        out.add_unsigned("status", doc.status)
        out.add_unsigned("outlinks", doc.outlinks)
        if self._common is not None:
            pairs = self._common.pairs_of
            texts = (doc.title, doc.description, doc.main, doc.boilerplate)  # PAIR_FIELDS
            numbers = [n for field, text in enumerate(texts) for n in pairs(field, text)]
            if numbers:
                out.extend({"pairs": numbers}, self._schema)
        out.add_bytes("mainbody", doc.main.encode("utf-8", "replace"))
        out.add_bytes("restbody", doc.boilerplate.encode("utf-8", "replace"))
        return out

    # reading

    def refresh(self) -> None:
        """See what other processes committed since this index was opened."""
        self._index.reload()

    def count(self) -> int:
        return int(self._index.searcher().num_docs)

    def search(self, request: SearchRequest) -> SearchResults:
        common = self._common_words()
        query, text_query = compile_request(request, self._schema, self._analyzer, common)
        if query is None:
            return SearchResults(0, request.page, request.per_page, [])
        searcher = self._index.searcher()
        offset = (request.page - 1) * request.per_page
        if request.sort == "relevance":
            found = searcher.search(query, request.per_page, offset=offset)
        else:
            order = tantivy.Order.Desc if request.sort == "newest" else tantivy.Order.Asc
            found = searcher.search(
                query, request.per_page, offset=offset, order_by_field="sortdate", order=order
            )
        snippets = None
        if text_query is not None:
            snippets = tantivy.SnippetGenerator.create(searcher, text_query, self._schema, "main")
            snippets.set_max_num_chars(_SNIPPET_CHARS)
        relevance = request.sort == "relevance"  # else the "score" is the sort date
        hits = [
            _hit(searcher.doc(address), score if relevance else 0.0, snippets)
            for score, address in found.hits
        ]
        total = int(found.count)  # type: ignore[attr-defined]  # missing from tantivy's stubs
        facets = self._facets(searcher, query) if request.facets and total else {}
        return SearchResults(total, request.page, request.per_page, hits, facets)

    def _facets(self, searcher: Any, query: tantivy.Query) -> dict[str, list[tuple[str, int]]]:
        aggs = {name: {"terms": {"field": name, "size": _FACET_SIZE}} for name in FACETS}
        result = searcher.aggregate(query, aggs)
        facets: dict[str, list[tuple[str, int]]] = {}
        for name in FACETS:
            buckets = result.get(name, {}).get("buckets", [])
            pairs = [(str(b["key"]), int(b["doc_count"])) for b in buckets if b["key"] != ""]
            if name == "year":
                pairs.sort(reverse=True)
            facets[name] = pairs
        return facets

    def close(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None


@dataclass
class _Pending:
    """What the index keeps of a document added since the last commit."""

    collection: str
    timestamps: list[str]  # capture times, in the order they came


def _chars(doc: SearchDoc) -> int:
    return len(doc.main) + len(doc.boilerplate) + len(doc.title) + len(doc.description)


def _stored_doc(doc: tantivy.Document) -> SearchDoc:
    fields = doc.to_dict()

    def one(name: str, default: Any = "") -> Any:
        values = fields.get(name) or [default]
        return values[0]

    def raw(name: str) -> str:
        return bytes(one(name, b"")).decode("utf-8", "surrogatepass")

    main = bytes(one("mainbody", b"")).decode("utf-8", "replace")
    rest = bytes(one("restbody", b"")).decode("utf-8", "replace")
    return SearchDoc(
        collection=one("collection"),
        url=raw("url"),
        surt=raw("surt"),
        host=one("host"),
        digest=raw("digest"),
        timestamps=sorted(raw("timestamps").split()),
        mime=one("mime"),
        status=int(one("status", 0)),
        lang=one("lang"),
        title=one("title"),
        main=main,
        description=one("description"),
        outlinks=int(one("outlinks", 0)),
        boilerplate=rest,
    )


def _hit(doc: tantivy.Document, score: float, snippets: tantivy.SnippetGenerator | None) -> Hit:
    stored = _stored_doc(doc)
    snippet = ""
    if snippets is not None:
        snippet = snippets.snippet_from_doc(tantivy.Document(main=stored.text)).to_html()
    if not snippet:
        snippet = _escape(stored.description or stored.text[:_SNIPPET_CHARS])
    return Hit(
        collection=stored.collection,
        url=stored.url,
        title=stored.title,
        snippet=snippet,
        timestamps=tuple(stored.timestamps),
        mime=stored.mime,
        status=stored.status,
        lang=stored.lang,
        host=stored.host,
        score=float(score),
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _conforms(index: TantivySearchIndex) -> SearchIndex:
    return index  # mypy checks that the class implements the SearchIndex seam
