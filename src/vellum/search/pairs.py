"""Adjacent common words, indexed as one number each, so that phrases of them are fast.

A phrase query checks word positions in every document that has all its words. For two
common words ("de la", "of the") that is a large share of the index: at 1,000,000 pages
"de de" took half a second. Lucene's CommonGrams filter answers such phrases from terms
made of the word pairs instead; this module does the same with numbers.

It is on in a new index and chosen per index (`vellum search reindex
--no-fast-phrases` turns it off), since it costs about half as much CPU again at
indexing. The common words of such an index are learned from
the first documents it is given and kept beside it until the next full reindex, so that
every document and every query agree on them.

For each text field, each pair of adjacent words that are both common becomes the number
`field << 40 | rank(first) << 20 | rank(second)` in the `pairs` field. A phrase of two
common words is then a lookup of that number (and of its two words, for the score); any
other phrase still checks positions. Both give the same documents: a pair is indexed
exactly where a phrase query would have found its words side by side.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise, repeat
from pathlib import Path

import tantivy

from vellum.errors import VellumError

__all__ = ["PAIR_FIELDS", "CommonWords", "build_word_analyzer"]

PAIR_FIELDS = ("title", "description", "main", "rest")
SIZE = 500  # common words per index: learned from the first batch of documents
_LONGEST = 30  # characters; a longer word is never common (tantivy drops words of 40 bytes)
_RANK_BITS = 20
_SAMPLE = 1_000_000  # characters of text read to learn the common words
_SAMPLE_EACH = 2_000  # characters of one text at most (a sample of many pages)


def build_word_analyzer() -> tantivy.TextAnalyzer:
    """The index's analyzer without its long-word filter.

    The index drops words of 40 bytes or more but keeps the positions of the others, so
    the words on either side of a dropped one are not side by side; here the long word
    stays in the list, where it is not common and so ends any pair.
    """
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


class CommonWords:
    """An index's common words, most frequent first, and the pair numbers made of them."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(words)
        self._rank = {w: i + 1 for i, w in enumerate(self.words[: (1 << _RANK_BITS) - 1])}
        self._analyzer = build_word_analyzer()

    @classmethod
    def learn(cls, texts: Iterable[str], size: int = SIZE) -> CommonWords:
        """The `size` most frequent words of `texts` (words seen once are not common).

        A sample is enough, and keeps the count small: the first `_SAMPLE_EACH`
        characters of each text, `_SAMPLE` characters in all.
        """
        analyzer = build_word_analyzer()
        counts: Counter[str] = Counter()
        budget = _SAMPLE
        for text in texts:
            if budget <= 0:
                break
            if text:
                sample = text[: min(_SAMPLE_EACH, budget)]
                budget -= len(sample)
                counts.update(analyzer.analyze(sample))
        ordered = [w for w, n in counts.most_common() if n > 1 and len(w) <= _LONGEST]
        return cls(ordered[:size])

    @classmethod
    def load(cls, path: Path) -> CommonWords | None:
        """The words saved at `path`; None if there is no such file yet."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise VellumError(
                f"cannot read the search index's common words {path}: {exc}"
            ) from None
        return cls(text.split())

    def save(self, path: Path) -> None:
        """Write the words to `path` atomically (a crash leaves the old file or the new)."""
        temporary = path.with_suffix(".tmp")
        with open(temporary, "w", encoding="utf-8") as out:
            out.write("".join(w + "\n" for w in self.words))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)

    def pairs_of(self, field: int, text: str) -> list[int]:
        """The pair numbers of one field's text (`field`: its index in PAIR_FIELDS)."""
        if not text:
            return []
        ranks = list(map(self._rank.get, self._analyzer.analyze(text), repeat(0)))
        top = field << (2 * _RANK_BITS)
        return [top | a << _RANK_BITS | b for a, b in pairwise(ranks) if a and b]

    def pair(self, field: int, first: str, second: str) -> int | None:
        """The number of two analysed words side by side; None unless both are common."""
        a, b = self._rank.get(first), self._rank.get(second)
        if a is None or b is None:
            return None
        return field << (2 * _RANK_BITS) | a << _RANK_BITS | b
