"""The Frontier contract, run against the SQLite implementation."""

from __future__ import annotations

from pathlib import Path

from vellum.capture.frontier import DONE, Entry, SqliteFrontier
from vellum.capture.scope import host_of
from vellum.urls.surt import surt


def entry(url: str, path: str = "L") -> Entry:
    return Entry(surt(url), url, path, "", host_of(url), path.count("L"))


def test_priority_seen_set_and_persistence(tmp_path: Path) -> None:
    db = tmp_path / "frontier.sqlite"
    f = SqliteFrontier(db)
    added = f.add(
        [
            entry("http://a.org/deep", "LLL"),
            entry("http://a.org/one", "L"),
            entry("http://b.org/two", "LL"),
            entry("http://www.A.org/one"),  # the same SURT as /one
            entry("https://a.org/one"),
        ]
    )
    assert [e.url for e in added] == ["http://a.org/deep", "http://a.org/one", "http://b.org/two"]
    assert [e.url for e in f.claim(1)] == ["http://a.org/one"]  # fewest hops first
    assert [e.url for e in f.claim(5, exclude_hosts=["b.org"])] == ["http://a.org/deep"]
    f.finish(surt("http://a.org/one"), DONE)
    f.commit()
    f.close()  # a restart: claimed URLs are queued again, done ones stay done
    g = SqliteFrontier(db)
    assert g.release_claimed() == 1
    assert g.state_of(surt("http://a.org/one")) == DONE
    assert g.add([entry("http://a.org/one")]) == []
    assert [e.url for e in g.claim(5)] == ["http://b.org/two", "http://a.org/deep"]
    g.set_meta("checkpoint", ["x.warc.gz", 10])
    g.close()
    assert SqliteFrontier(db).get_meta("checkpoint") == ["x.warc.gz", 10]


def test_uncommitted_work_is_lost_on_crash(tmp_path: Path) -> None:
    db = tmp_path / "frontier.sqlite"
    f = SqliteFrontier(db)
    f.add([entry("http://a.org/1")])
    f.commit()
    f.add([entry("http://a.org/2")])
    # no commit: a kill here loses /2, which recovery re-derives from the WARC
    f._db.close()  # the process dies without COMMIT
    h = SqliteFrontier(db)
    assert h.counts() == {"queued": 1}
