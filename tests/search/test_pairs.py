"""Phrases of common words answered from word pairs find exactly what positions find."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from vellum.search.model import SearchDoc, SearchRequest
from vellum.search.pairs import CommonWords, build_word_analyzer
from vellum.search.query import parse_query
from vellum.search.tantivy_index import COMMON_WORDS, FAST_PHRASES, TantivySearchIndex

# Few words, so that nearly all of them are common; spelled in several ways that the
# index folds together (case, accents), with the separators text puts between words.
WORDS = ["de", "la", "the", "of", "été", "ville", "Straße", "naïve", "x1", "rare", "DE", "Été"]
SEPARATORS = [" ", " ", " ", ", ", " - ", "'", "_", "\n", " (", ") ", "…"]
LONG = "w" * 45  # dropped by the index: the words on either side of it are not side by side


def random_text(rng: random.Random, words: int) -> str:
    out = []
    for _ in range(words):
        out.append(LONG if rng.random() < 0.03 else rng.choice(WORDS))
        out.append(rng.choice(SEPARATORS))
    return "".join(out)


def docs(rng: random.Random, count: int) -> list[SearchDoc]:
    return [
        SearchDoc(
            collection="c",
            url=f"http://pairs.example/{n}",
            surt=f"example,pairs)/{n}",
            host="pairs.example",
            digest=f"sha1:{n:032d}",
            timestamps=["20200101000000"],
            mime="text/html",
            title=random_text(rng, rng.randint(0, 4)),
            description=random_text(rng, rng.randint(0, 3)),
            main=random_text(rng, rng.randint(0, 25)),
            boilerplate=random_text(rng, rng.randint(0, 5)),
        )
        for n in range(count)
    ]


def has_phrase(doc: SearchDoc, phrase: list[str]) -> bool:
    """The oracle: the words side by side in one field, as positions would say."""
    analyzer = build_word_analyzer()
    for text in (doc.title, doc.description, doc.main, doc.boilerplate, doc.url):
        tokens = [t if len(t.encode()) < 40 else None for t in analyzer.analyze(text)]
        for i in range(len(tokens) - len(phrase) + 1):
            if tokens[i : i + len(phrase)] == phrase:
                return True
    return False


def found(index: TantivySearchIndex, query: str) -> set[str]:
    request = SearchRequest(parse_query(query), None, per_page=1000, facets=False)
    results = index.search(request)
    assert results.total == len(results.hits)
    return {hit.url for hit in results.hits}


def fast_index(path: Path) -> TantivySearchIndex:
    return TantivySearchIndex.recreate(path, fast_phrases=True)


def test_phrases_from_pairs_find_what_positions_find(tmp_path: Path) -> None:
    rng = random.Random(5)
    corpus = docs(rng, 300)
    index = fast_index(tmp_path / "index")
    index.upsert_many(corpus)
    index.commit()
    common = CommonWords.load(tmp_path / "index" / COMMON_WORDS)
    assert common is not None and {"de", "la", "ete", "strasse", "naive"} <= set(common.words)
    vocabulary = sorted({t for w in WORDS for t in build_word_analyzer().analyze(w)})
    phrases = [[a, b] for a in vocabulary for b in vocabulary]
    phrases += [[rng.choice(vocabulary) for _ in range(3)] for _ in range(40)]
    for phrase in phrases:
        expected = {d.url for d in corpus if has_phrase(d, phrase)}
        assert found(index, '"' + " ".join(phrase) + '"') == expected, phrase
    index.close()


def test_pair_lookup_and_positions_agree_on_one_index(tmp_path: Path) -> None:
    """The same phrases through the pairs and, with the words set aside, through positions."""
    index = fast_index(tmp_path / "index")
    index.upsert_many(docs(random.Random(11), 200))
    index.commit()
    queries = ['"de la"', '"la de"', '"de de"', '"the of"', '"ete ville"', '"Straße naïve"']
    queries += ['"x1 rare"', '"de la ville"', '"DE-LA"', "de_la", '"of the"', '"de la"*']
    with_pairs = {q: found(index, q) for q in queries}
    (tmp_path / "index" / COMMON_WORDS).rename(tmp_path / "aside")
    assert {q: found(index, q) for q in queries} == with_pairs
    assert all(with_pairs[q] for q in ('"de la"', '"de de"', '"de la ville"'))
    index.close()


def test_a_new_index_learns_words_and_one_turned_off_does_not(tmp_path: Path) -> None:
    new = TantivySearchIndex(tmp_path / "new")
    assert new.fast_phrases
    new.upsert_many(docs(random.Random(2), 30))
    new.commit()
    assert (tmp_path / "new" / COMMON_WORDS).exists()
    new.close()
    index = TantivySearchIndex.recreate(tmp_path / "index", fast_phrases=False)
    index.upsert_many(docs(random.Random(2), 30))
    index.commit()
    assert not index.fast_phrases and not (tmp_path / "index" / COMMON_WORDS).exists()
    assert found(index, '"de la"')  # positions answer
    index.close()


def test_common_words_are_learned_once_and_follow_reindexing(tmp_path: Path) -> None:
    path = tmp_path / "index"
    writer = fast_index(path)
    reader = TantivySearchIndex(path)  # a server that opened the index while it was empty
    writer.upsert_many(docs(random.Random(1), 50))
    writer.commit()
    learned = (path / COMMON_WORDS).read_text()
    later = SearchDoc(
        "c", "http://other/", "other)/", "other", "sha1:x", ["20200101000000"], main="zebra zebra"
    )
    writer.upsert_many([later])
    writer.commit()
    writer.close()
    assert (path / COMMON_WORDS).read_text() == learned  # never learned again
    reader.refresh()
    expected = found(reader, '"de la"')
    assert expected and reader._common_words() is not None
    # Reindexing keeps the choice and learns again; turning it off makes the server
    # that still runs fall back to positions, with the same results.
    again = TantivySearchIndex.recreate(path)
    assert again.fast_phrases and not (path / COMMON_WORDS).exists() and again.count() == 0
    again.upsert_many(docs(random.Random(1), 50))
    again.commit()
    again.close()
    assert (path / COMMON_WORDS).exists()
    off = TantivySearchIndex.recreate(path, fast_phrases=False)
    off.upsert_many(docs(random.Random(1), 50))
    off.commit()
    off.close()
    assert not (path / COMMON_WORDS).exists() and not (path / FAST_PHRASES).exists()
    reader.refresh()
    assert found(reader, '"de la"') == expected and reader._common_words() is None


def test_words_are_not_learned_into_an_index_that_has_documents(tmp_path: Path) -> None:
    """Fast phrases asked for after documents were added without pairs: positions stay."""
    path = tmp_path / "index"
    index = TantivySearchIndex.recreate(path, fast_phrases=False)
    corpus = docs(random.Random(3), 40)
    index.upsert_many(corpus[:20])
    index.commit()
    (path / FAST_PHRASES).write_text("as after a crash between two steps of a reindex\n")
    index.upsert_many(corpus[20:])
    index.commit()
    assert not (path / COMMON_WORDS).exists()
    expected = {d.url for d in corpus if has_phrase(d, ["de", "la"])}
    assert expected and found(index, '"de la"') == expected
    index.close()


def test_learning_skips_words_seen_once_and_long_words() -> None:
    common = CommonWords.learn(["alpha beta alpha", "beta gamma " + "y" * 31 + " " + "y" * 31])
    assert common.words == ["alpha", "beta"]
    assert common.pair(2, "alpha", "beta") == (2 << 40) | (1 << 20) | 2
    assert common.pair(2, "alpha", "gamma") is None
    assert common.pairs_of(0, "Alpha, BETA gamma beta-alpha") == [
        (1 << 20) | 2,
        (2 << 20) | 1,
    ]


def test_common_words_file_that_cannot_be_read_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / COMMON_WORDS
    bad.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(Exception, match="cannot read the search index's common words"):
        CommonWords.load(bad)
