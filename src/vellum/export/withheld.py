"""The WARC files of a collection that hold captures a view hides.

WASAPI serves WARC files whole, so a file that holds an excluded capture (or, for
someone outside the owning organization, a capture under embargo) is withheld from
that caller altogether. Finding them reads the collection's index once per change of
the index or of the rules; the embargo is checked against each file's newest capture
at every request, so that a file becomes available the day its captures come of age.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from vellum.access.exclusions import Rules, View
from vellum.index.stamp import Stamp, index_stamp
from vellum.index.store import open_index
from vellum.settings import Settings

__all__ = ["WithheldFiles"]


@dataclass(frozen=True)
class _Facts:
    stamp: Stamp
    rules: Rules
    excluded: frozenset[str]  # files holding a capture the rules exclude
    newest: dict[str, str]  # file name → timestamp of its newest capture


class WithheldFiles:
    """Which files of a collection a view may not download, cached per index state."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._facts: dict[str, _Facts] = {}
        self._lock = threading.Lock()

    def of(self, slug: str, view: View) -> set[str]:
        if view.unrestricted:
            return set()
        facts = self._current(slug, view.rules)
        withheld = set(facts.excluded)
        if view.cutoff:
            withheld.update(
                name for name, ts in facts.newest.items() if ts >= view.cutoff[: len(ts)]
            )
        return withheld

    def _current(self, slug: str, rules: Rules) -> _Facts:
        stamp = index_stamp(self._settings.index_dir(slug))
        with self._lock:
            facts = self._facts.get(slug)
        if facts is not None and facts.stamp == stamp and facts.rules == rules:
            return facts
        excluded: set[str] = set()
        newest: dict[str, str] = {}
        if stamp:
            index = open_index(self._settings.index_dir(slug), self._settings.warc_dir(slug))
            for capture in index.all():
                name = capture.filename
                if capture.timestamp > newest.get(name, ""):
                    newest[name] = capture.timestamp
                if name not in excluded and rules.excluded_key(capture.urlkey):
                    excluded.add(name)
        facts = _Facts(stamp, rules, frozenset(excluded), newest)
        with self._lock:
            self._facts[slug] = facts
        return facts
