"""The fuzzy rule list: data, checked when loaded, applied as documented."""

from __future__ import annotations

import pytest

from vellum.replay.fuzzy import load_rules, parse_rules, reduce_url


def test_shipped_rules_load_and_strip_cache_busters() -> None:
    rules = {r.name: r for r in load_rules()}
    busting = rules["cache-busting"]
    assert reduce_url("http://x.org/a.js?v=3&_=17&id=4&utm_source=feed", busting) == (
        "http://x.org/a.js?id=4"
    )
    assert busting.applies_to("http://x.org/a.js")
    jsonp = rules["jsonp-callback"]
    assert jsonp.applies_to("http://x.org/api?callback=jQuery123_456&q=1")
    assert not jsonp.applies_to("http://x.org/api?q=1")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be an object"),
        ({"rules": [{"ignore_params": ["a"]}]}, "needs a name"),
        ({"rules": [{"name": "n"}]}, "ignores nothing"),
        ({"rules": [{"name": "n", "ignore_params": "a"}]}, "list of names"),
        ({"rules": [{"name": "n", "ignore_param_regex": "("}]}, "bad regular expression"),
    ],
)
def test_bad_rule_lists_are_refused_with_the_reason(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rules(data)
