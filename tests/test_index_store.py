"""The index store on disk: crash safety, append-only segments, merging, ZipNum files.

Crash tests stop the store at every named step of a sequence of appends, seals, merges
and a rebuild (a Python exception in-process, and SIGKILL in a child process at chosen
steps), then reopen, recover, and compare with a fresh index of the WARC files.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.test_index_query import TABLE, capture
from vellum.index.cdxj import Capture
from vellum.index.indexer import index_warc
from vellum.index.query import CdxQuery, MatchType, execute
from vellum.index.segments import MANIFEST, Manifest
from vellum.index.store import SegmentedIndex, StoreOptions, open_index
from vellum.index.zipnum import ZipNumRun, write_loc, write_zipnum

REPO = Path(__file__).resolve().parent.parent
LAYOUTS = {
    "segments": StoreOptions(background=False, merge_fanin=2, zipnum_min_lines=None),
    "zipnum": StoreOptions(background=False, merge_fanin=2, zipnum_min_lines=0, block_lines=3),
}


def write_warc(path: Path, n: int, start: datetime) -> None:
    """A WARC of n responses (some URLs repeated) and a revisit, written by warcio."""
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for i in range(n):
            url = f"http://site{i % 3}.example/page{i % 4}"
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"
            )
            date = (start + timedelta(seconds=i // 2)).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = f"<p>{path.name} {i}</p>".encode()
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),  # a known length: warcio spools nothing to a temp file
                http_headers=headers,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)
        revisit = writer.create_revisit_record(
            "http://site0.example/page0",
            "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "http://site0.example/page0",
            start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        writer.write_record(revisit)


@pytest.fixture(scope="module")
def warcs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("warcs")
    start = datetime(2015, 1, 1, tzinfo=UTC)
    paths = []
    for k in range(5):
        path = directory / f"T-2015010{k}000000-0000{k}-h.warc.gz"
        write_warc(path, 7 + k, start + timedelta(days=k))
        paths.append(path)
    return paths


def fresh_lines(warc_dir: Path) -> list[str]:
    """What the index must hold: every record of every WARC, indexed from scratch."""
    lines = {c.to_line() for p in warc_dir.glob("*.warc.gz") for c in index_warc(p)}
    return sorted(lines, key=str.encode)


def scenario(store: SegmentedIndex, warcs: list[Path]) -> None:
    """A crawl's and a rebuild's worth of index updates."""
    last = list(index_warc(warcs[4]))
    store.append(warcs[4].name, last[:4])  # a WARC being written all along
    for path in warcs[:4]:
        captures = list(index_warc(path))
        store.append(path.name, reversed(captures[:3]))
        store.append(path.name, captures[3:])
        store.seal(path.name)
    store.remove(warcs[1].name)  # rebuild one WARC
    store.append(warcs[1].name, index_warc(warcs[1]))
    store.seal(warcs[1].name)
    store.append(warcs[4].name, last[4:])
    store.close()  # seals it


class Killed(Exception):
    """Stands for the process being killed at a step."""


def killer(at: int, seen: list[str]) -> Callable[[str], None]:
    def step(name: str) -> None:
        seen.append(name)
        if len(seen) == at:
            raise Killed(name)

    return step


def owned_files(index_dir: Path) -> set[str]:
    m = Manifest.from_json((index_dir / MANIFEST).read_bytes())
    suffixes = {"cdxj": [".cdxj"], "zipnum": [".cdx.gz", ".idx", ".loc", ".ends"]}
    owned = {run.name + s for run in m.runs for s in suffixes[run.kind]}
    return owned | {MANIFEST, ".lock"}


def check_recovered(index_dir: Path, warc_dir: Path, options: StoreOptions) -> None:
    store = SegmentedIndex(index_dir, warc_dir, options)
    store.recover()
    assert [c.to_line() for c in store.all()] == fresh_lines(warc_dir)
    assert {p.name for p in index_dir.iterdir()} == owned_files(index_dir)
    assert store.recover() == []  # nothing left to do
    store.close()


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_kill_at_every_step_then_recover(tmp_path: Path, warcs: list[Path], layout: str) -> None:
    options = LAYOUTS[layout]
    warc_dir = warcs[0].parent
    steps: list[str] = []
    dry = SegmentedIndex(tmp_path / "dry", warc_dir, options)
    dry._step = steps.append
    scenario(dry, warcs)
    assert {"run:writing", "manifest:written", "manifest:replaced", "run:deleted"} <= set(steps)
    for at in range(1, len(steps) + 1):
        index_dir = tmp_path / f"kill-{at}"
        store = SegmentedIndex(index_dir, warc_dir, options)
        seen: list[str] = []
        store._step = killer(at, seen)
        with pytest.raises(Killed):
            scenario(store, warcs)
        store._abandon()
        check_recovered(index_dir, warc_dir, options)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_kill_during_recovery(tmp_path: Path, warcs: list[Path], layout: str) -> None:
    """A first start that indexes everything, killed at each step, then started again."""
    options = LAYOUTS[layout]
    warc_dir = warcs[0].parent
    steps: list[str] = []
    dry = SegmentedIndex(tmp_path / "dry", warc_dir, options)
    dry._step = steps.append
    dry.recover()
    dry.close()
    for at in range(1, len(steps) + 1):
        index_dir = tmp_path / f"kill-{at}"
        store = SegmentedIndex(index_dir, warc_dir, options)
        store._step = killer(at, [])
        with pytest.raises(Killed):
            store.recover()
        store._abandon()
        check_recovered(index_dir, warc_dir, options)


KILL_SCRIPT = """
import os, signal, sys
from pathlib import Path
from tests.test_index_store import LAYOUTS, scenario
from vellum.index.store import SegmentedIndex

index_dir, warc_dir, layout, at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
store = SegmentedIndex(Path(index_dir), Path(warc_dir), LAYOUTS[layout])
seen = []
def step(name):
    seen.append(name)
    if len(seen) == at:
        os.kill(os.getpid(), signal.SIGKILL)
store._step = step
scenario(store, sorted(Path(warc_dir).glob("*.warc.gz")))
"""


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_sigkill_in_a_child_process(tmp_path: Path, warcs: list[Path], layout: str) -> None:
    warc_dir = warcs[0].parent
    steps: list[str] = []
    dry = SegmentedIndex(tmp_path / "dry", warc_dir, LAYOUTS[layout])
    dry._step = steps.append
    scenario(dry, warcs)
    # the middle of writing a merged run, between a run's rename and the manifest's,
    # and between the manifest's and deleting the runs it replaced
    points = [i + 1 for i, s in enumerate(steps) if s in ("run:writing", "run:installed")][3:5]
    points += [i + 1 for i, s in enumerate(steps) if s == "manifest:replaced"][4:5]
    for at in points:
        index_dir = tmp_path / f"kill-{at}"
        child = subprocess.run(
            [sys.executable, "-c", KILL_SCRIPT, str(index_dir), str(warc_dir), layout, str(at)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert child.returncode == -9, child.stderr
        check_recovered(index_dir, warc_dir, LAYOUTS[layout])


def test_recover_after_damaged_or_missing_manifest(tmp_path: Path, warcs: list[Path]) -> None:
    warc_dir = warcs[0].parent
    index_dir = tmp_path / "idx"
    store = SegmentedIndex(index_dir, warc_dir, LAYOUTS["segments"])
    assert sorted(store.recover()) == sorted(p.name for p in warcs)
    store.close()
    (index_dir / MANIFEST).write_text("{ half")
    check_recovered(index_dir, warc_dir, LAYOUTS["segments"])
    (index_dir / MANIFEST).unlink()
    check_recovered(index_dir, warc_dir, LAYOUTS["segments"])


def test_recover_follows_the_warc_files(tmp_path: Path, warcs: list[Path]) -> None:
    warc_dir = tmp_path / "warcs"
    warc_dir.mkdir()
    for path in warcs[:3]:
        shutil.copy(path, warc_dir)
    options = LAYOUTS["segments"]
    store = SegmentedIndex(tmp_path / "idx", warc_dir, options)
    store.recover()
    (warc_dir / warcs[0].name).unlink()  # a WARC deleted
    shutil.copy(warcs[3], warc_dir / warcs[1].name)  # a WARC replaced by another
    shutil.copy(warcs[4], warc_dir)  # a WARC added
    assert store.recover() == sorted([warcs[1].name, warcs[4].name])
    assert [c.to_line() for c in store.all()] == fresh_lines(warc_dir)
    store.close()


def test_journal_with_half_a_line(tmp_path: Path, warcs: list[Path]) -> None:
    """A crash can cut the journal's last line: readers skip it, appending cuts it off."""
    store = SegmentedIndex(tmp_path / "idx", tmp_path, LAYOUTS["segments"])
    store.append("x.warc.gz", [capture(0)])
    store._abandon()
    journal = tmp_path / "idx" / "x.warc.gz.cdxj.open"
    journal.write_bytes(journal.read_bytes() + capture(1).to_line().encode()[:30])
    reader = open_index(tmp_path / "idx", tmp_path)
    assert list(reader.all()) == [capture(0)]
    store = SegmentedIndex(tmp_path / "idx", tmp_path, LAYOUTS["segments"])
    store.append("x.warc.gz", [capture(2)])
    assert list(reader.all()) == [capture(0), capture(2)]
    store.seal("x.warc.gz")
    assert list(reader.all()) == [capture(0), capture(2)]
    store.close()


def test_a_journal_is_written_by_one_process_at_a_time(tmp_path: Path) -> None:
    first = SegmentedIndex(tmp_path / "idx", tmp_path)
    second = SegmentedIndex(tmp_path / "idx", tmp_path)
    first.append("x.warc.gz", [capture(0)])
    with pytest.raises(Exception, match="another process"):
        second.append("x.warc.gz", [capture(1)])
    # and recovery elsewhere leaves a journal that is being written alone
    assert second.recover() == []
    assert (tmp_path / "idx" / "x.warc.gz.cdxj.open").exists()
    first.close()
    second.close()
    assert list(open_index(tmp_path / "idx", tmp_path).all()) == [capture(0)]


def file_ids(index_dir: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in index_dir.glob("seg-*")}


def test_adding_a_warc_leaves_the_other_segments_alone(tmp_path: Path) -> None:
    options = StoreOptions(background=False, merge_fanin=4, tier_base_lines=4)
    store = SegmentedIndex(tmp_path / "idx", tmp_path, options)
    big = [capture(i) for i in range(len(TABLE))]
    for k in range(4):  # four runs of 23 lines (tier 2) merge into one of 92 (tier 3)
        store.append(f"big{k}.warc.gz", [replace(c, filename=f"big{k}.warc.gz") for c in big])
        store.seal(f"big{k}.warc.gz")
    assert [run.lines for run in store.runs_on_disk()] == [92]
    for k in range(3):  # small ones (tier 0) accumulate beside it
        before = file_ids(tmp_path / "idx")
        store.append(f"small{k}.warc.gz", [capture(k)])
        store.seal(f"small{k}.warc.gz")
        after = file_ids(tmp_path / "idx")
        assert {name: after[name] for name in before} == before  # untouched
        assert len(after) == len(before) + 1
    before = file_ids(tmp_path / "idx")
    big_run = next(run.name for run in store.runs_on_disk() if run.lines == 92) + ".cdxj"
    store.append("small3.warc.gz", [capture(3)])
    store.seal("small3.warc.gz")  # four tier-0 runs merge; the big run is not read or written
    after = file_ids(tmp_path / "idx")
    assert after[big_run] == before[big_run]
    assert [run.lines for run in store.runs_on_disk()] == [92, 4]
    store.close()


def test_background_merging(tmp_path: Path) -> None:
    options = StoreOptions(background=True, merge_fanin=3, zipnum_min_lines=30, block_lines=4)
    store = SegmentedIndex(tmp_path / "idx", tmp_path, options)
    expected = []
    for k in range(10):
        warc = f"w{k}.warc.gz"
        rows = [replace(capture(i), filename=warc) for i in range(k, k + 8)]
        expected += rows
        store.append(warc, rows)
        store.seal(warc)
        # readers see every sealed WARC whether or not a merge is running
        assert len(store.captures("http://example.com/")) == sum(
            1 for c in expected if c.urlkey == "com,example)/"
        )
    store.close()
    assert "zipnum" in {run.kind for run in store.runs_on_disk()}
    assert list(store.all()) == sorted(expected, key=lambda c: c.to_line().encode())


def test_remove_hides_then_merging_drops(tmp_path: Path) -> None:
    options = StoreOptions(background=False, merge_fanin=3, zipnum_min_lines=None)
    store = SegmentedIndex(tmp_path / "idx", tmp_path, options)
    by_warc: dict[str, list[Capture]] = {}
    for i in range(len(TABLE)):
        by_warc.setdefault(capture(i).filename, []).append(capture(i))
    names = sorted(by_warc)
    store.append(names[0], by_warc[names[0]])
    store.append(names[1], by_warc[names[1]])
    store.seal(names[0])
    store.seal(names[1])
    store.remove(names[0])
    assert [run.hidden for run in store.runs_on_disk()] == [[]]  # its own run went
    assert {c.filename for c in store.all()} == {names[1]}
    store.append(names[2], by_warc[names[2]])
    store.seal(names[2])
    store.append(names[0], by_warc[names[0]])
    store.seal(names[0])  # three runs: merged into one, nothing hidden
    assert [(run.lines, run.hidden) for run in store.runs_on_disk()] == [(len(TABLE), [])]
    store.remove(names[1])
    (run,) = store.runs_on_disk()
    assert run.hidden == [names[1]] and names[1] not in run.warcs
    assert {c.filename for c in store.all()} == {names[0], names[2]}
    store.compact()
    (run,) = store.runs_on_disk()
    assert run.hidden == [] and run.lines == len(TABLE) - len(by_warc[names[1]])
    store.close()


def test_legacy_segments_are_read_until_recovery(tmp_path: Path, warcs: list[Path]) -> None:
    index_dir = tmp_path / "idx"
    index_dir.mkdir()
    lines = sorted((c.to_line() for c in index_warc(warcs[0])), key=str.encode)
    (index_dir / (warcs[0].name + ".cdxj")).write_text("".join(x + "\n" for x in lines))
    reader = open_index(index_dir, warcs[0].parent)
    assert [c.to_line() for c in reader.all()] == lines
    check_recovered(index_dir, warcs[0].parent, LAYOUTS["segments"])
    assert not (index_dir / (warcs[0].name + ".cdxj")).exists()


# --- ZipNum files ----------------------------------------------------------------------------


def table_lines() -> list[bytes]:
    return sorted(capture(i).to_line().encode() for i in range(len(TABLE)))


def test_wacz_zipnum_form(tmp_path: Path) -> None:
    cdx, idx = tmp_path / "index.cdx.gz", tmp_path / "index.idx"
    with open(cdx, "wb") as c, open(idx, "wb") as i:
        written = write_zipnum(
            table_lines(), c, i, part="index.cdx.gz", flavour="wacz", block_lines=5
        )
    assert (written.lines, written.blocks) == (len(TABLE), 5)
    summary = idx.read_text().splitlines()
    assert summary[0] == '!meta 0 {"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}'
    data = cdx.read_bytes()
    lines = table_lines()
    for n, line in enumerate(summary[1:]):
        key, ts, where = line.split(" ", 2)
        block = json.loads(where)
        assert list(block) == ["offset", "length"]
        member = data[block["offset"] : block["offset"] + block["length"]]
        assert zlib.decompress(member, wbits=31).splitlines() == lines[n * 5 : n * 5 + 5]
        assert lines[n * 5].startswith(f"{key} {ts} ".encode())
    assert gzip.decompress(data).splitlines() == lines  # also one ordinary gzip stream
    run = ZipNumRun(idx)
    q = CdxQuery("example.com", match_type=MatchType.HOST, closest="20160101", limit=3)
    assert [c.offset for c in execute([run], q)] == [10, 2, 9]


def test_pywb_zipnum_form(tmp_path: Path) -> None:
    cdx, idx, loc = tmp_path / "x.cdx.gz", tmp_path / "x.idx", tmp_path / "x.loc"
    with open(cdx, "wb") as c, open(idx, "wb") as i, open(loc, "wb") as lo:
        write_zipnum(table_lines(), c, i, part="x", block_lines=3)
        write_loc(lo, "x", "x.cdx.gz")
    first = idx.read_text().splitlines()[0].split("\t")
    assert first == ["com,example)/ 20150101120000", "x", "0", first[3], "1"]
    assert loc.read_text() == "x\tx.cdx.gz\n"
    run = ZipNumRun(idx)  # finds the file through the .loc, as pywb does
    assert [c.offset for c in execute([run], CdxQuery("http://example.com/a"))] == [7, 8]


PYWB_PYTHONS = [Path("/tmp/pywb-venv/bin/python"), REPO / "bench/.work/pywb-venv/bin/python"]
PYWB_SCRIPT = """
import json, sys
from pywb.warcserver.index.zipnum import ZipNumIndexSource
source = ZipNumIndexSource(sys.argv[1], None)
out = {}
for url, match in json.loads(sys.argv[2]):
    out[url + " " + match] = [str(c) for c in source.load_index({"url": url, "matchType": match})]
print(json.dumps(out))
"""


def pywb_python() -> Path:
    for python in PYWB_PYTHONS:
        if python.exists():
            probe = subprocess.run([python, "-c", "import pywb"], capture_output=True, check=False)
            if probe.returncode == 0:
                return python
    pytest.fail("pywb is not installed in bench/.work/pywb-venv: run 'make install-test'")


def test_pywb_reads_our_zipnum_shards(tmp_path: Path) -> None:
    python = pywb_python()
    store = SegmentedIndex(tmp_path / "idx", tmp_path, LAYOUTS["zipnum"])
    for i in range(len(TABLE)):
        store.append(capture(i).filename, [capture(i)])
    store.close()  # seals the three WARCs, merging as it goes
    store.compact(zipnum=True)
    (run,) = store.runs_on_disk()
    questions = [
        ("http://example.com/", "exact"),
        ("http://example.com/a", "exact"),
        ("http://example.com/a", "prefix"),
        ("example.com", "host"),
        ("example.com", "domain"),
        ("http://example.com/t", "exact"),
    ]
    child = subprocess.run(
        [
            python,
            "-c",
            PYWB_SCRIPT,
            str(tmp_path / "idx" / f"{run.name}.idx"),
            json.dumps(questions),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(child.stdout)
    for url, match in questions:
        ours = [c.to_line() for c in store.query(CdxQuery(url, match_type=MatchType(match)))]
        assert theirs[f"{url} {match}"] == ours, (url, match)
        assert ours


def test_open_runs_survive_a_merge(tmp_path: Path) -> None:
    """A reader holding a run keeps reading it after a merge has deleted its file."""
    store = SegmentedIndex(tmp_path / "idx", tmp_path, LAYOUTS["segments"])
    store.append("a.warc.gz", [capture(0)])
    store.seal("a.warc.gz")
    reader = open_index(tmp_path / "idx", tmp_path)
    results: Iterator[Capture] = reader.query(CdxQuery("http://example.com/", reverse=True))
    store.append("b.warc.gz", [capture(6)])
    store.seal("b.warc.gz")  # merges a and b; a's file is deleted
    assert [c.timestamp for c in results] == ["20150101120000"]
    assert [c.timestamp for c in reader.query(CdxQuery("http://example.com/"))] == [
        "20150101120000",
        "20180101000000",
    ]
    store.close()
    assert not os.path.exists(tmp_path / "idx" / "seg-00000001.cdxj")


def test_lines_pywb_adds_to_come_back_unchanged(tmp_path: Path) -> None:
    """POST captures (`requestBody`, `method` after `filename`) and mime-less records."""
    from vellum.index.indexer import IndexedCapture

    post = IndexedCapture(
        "com,example)/form?__wb_method=post&a=1", "20150101000000", "http://example.com/form",
        "text/html", "200", "D1", 10, 20, "p.warc.gz", post=("a=1", "POST"),
    )  # fmt: skip
    bare = IndexedCapture(
        "com,example)/x", "20150101000000", "http://example.com/x", "", "", "", 1, 2,
        "p.warc.gz", has_mime=False,
    )  # fmt: skip
    plain = replace(capture(0), filename="p.warc.gz")
    store = SegmentedIndex(tmp_path / "idx", tmp_path, LAYOUTS["zipnum"])
    store.append("p.warc.gz", [post, bare, plain])
    expected = sorted([post.to_line(), bare.to_line(), plain.to_line()], key=str.encode)
    assert [c.to_line() for c in store.all()] == expected  # from the journal
    store.seal("p.warc.gz")
    assert [c.to_line() for c in store.all()] == expected  # from a ZipNum shard
    other = replace(capture(1), filename="q.warc.gz")
    store.append("q.warc.gz", [other])
    store.seal("q.warc.gz")  # merged with p's shard
    store.remove("p.warc.gz")  # hidden by file name, wherever `filename` is in the line
    assert [c.to_line() for c in store.all()] == [other.to_line()]
    store.close()
