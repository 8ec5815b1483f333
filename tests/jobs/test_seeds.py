"""Seeds in the catalog and seed lists in bulk: checks, schedules, per-line errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vellum.catalog import Catalog
from vellum.catalog.seeds import SeedRules, Seeds
from vellum.clock import frozen_clock
from vellum.errors import InvalidInput, NotFound
from vellum.jobs.seedlist import LINES_MAX, add_seed_list

T0 = datetime(2024, 1, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def at_t0(catalog: Catalog) -> Seeds:
    return Seeds(catalog, frozen_clock(T0))


def test_add_checks_and_schedules(at_t0: Seeds, coll: str) -> None:
    s = at_t0.add(coll, "Example.ORG/news#top", "path", "Monthly", SeedRules(max_hops=2))
    assert (s.url, s.scope, s.frequency, s.next_due) == (
        "http://example.org/news", "path", "monthly", T0,
    )  # fmt: skip
    assert s.rules.max_hops == 2 and s.active
    once = at_t0.add(coll, "https://b.example/")
    assert once.next_due is None and once.frequency == "one-time"
    for url, needle in [
        ("", "needs a URL"),
        ("javascript:alert(1)", "malformed URL"),
        ("https://" + "a" * 2050 + ".example/", "at most 2048"),
        ("https://b.example/", "already a seed"),
    ]:
        with pytest.raises(InvalidInput, match=needle):
            at_t0.add(coll, url)
    with pytest.raises(InvalidInput, match="unknown scope"):
        at_t0.add(coll, "https://c.example/", "world")
    with pytest.raises(InvalidInput, match="unknown limit"):
        at_t0.add(coll, "https://c.example/", rules=SeedRules(limits={"pages": 3}))
    with pytest.raises(InvalidInput, match="more than 0"):
        at_t0.add(coll, "https://c.example/", rules=SeedRules(limits={"documents": 0}))
    with pytest.raises(InvalidInput, match="unknown Dublin Core element"):
        at_t0.add(coll, "https://c.example/", dublin_core={"colour": ["red"]})
    with pytest.raises(NotFound):
        at_t0.add("nope", "https://c.example/")


def test_changing_the_frequency_moves_the_next_run(
    catalog: Catalog, at_t0: Seeds, coll: str
) -> None:
    seed = at_t0.add(coll, "https://a.example/", frequency="weekly")
    later = Seeds(catalog, frozen_clock(T0 + timedelta(days=45)))
    monthly = later.update(seed.id, frequency="monthly")
    # slots from the anchor (Jan 31): Feb 29 (leap year), Mar 31, ...: the first after Mar 16
    assert monthly.next_due == datetime(2024, 3, 31, 12, 0, tzinfo=UTC)
    assert later.update(seed.id, frequency="one-time").next_due is None
    assert later.update(seed.id, notes="  kept  ").notes == "kept"
    with pytest.raises(InvalidInput, match="bad regular expression"):
        later.update(seed.id, rules=SeedRules(exclude_re=("(",)))
    assert later.get(seed.id).rules.exclude_re == ()
    later.remove(seed.id)
    with pytest.raises(NotFound):
        later.get(seed.id)


def test_seed_list_text_and_csv(at_t0: Seeds, coll: str) -> None:
    text = "# partner sites\nhttps://a.example/\n\n  https://b.example/  \nmailto:x@y\n"
    result = add_seed_list(at_t0, coll, text, "domain", "daily")
    assert [s.url for s in result.added] == ["https://a.example/", "https://b.example/"]
    assert all(s.scope == "domain" and s.frequency == "daily" for s in result.added)
    assert [(b.line, b.text) for b in result.bad] == [(5, "mailto:x@y")]
    csv = "# header next\nURL,Scope,max_hops,include\nhttps://c.example/,page,3,https://cdn.c.example/\n"
    csv += "https://d.example/,host,two,\nhttps://e.example/,host,1,,extra\n"
    result = add_seed_list(at_t0, coll, csv)
    assert [s.url for s in result.added] == ["https://c.example/"]
    c = result.added[0]
    assert (c.scope, c.rules.max_hops, c.rules.include) == ("page", 3, ("https://cdn.c.example/",))
    assert [(b.line, b.reason) for b in result.bad] == [
        (4, "max_hops must be a whole number, not 'two'"),
        (5, "5 columns, the header has 4"),
    ]
    with pytest.raises(InvalidInput, match="unknown CSV column"):
        add_seed_list(at_t0, coll, "url,colour\nhttps://f.example/,red\n")
    with pytest.raises(InvalidInput, match=f"at most {LINES_MAX} lines"):
        add_seed_list(at_t0, coll, "https://g.example/\n" * (LINES_MAX + 1))
