"""What both benchmarks share: the generated site, nginx, peers' installation, WARC counts.

Everything a benchmark makes lives in `bench/.work/` (git-ignored): the generated site,
the pywb virtualenv, temporary data directories and the JSON results that `run_all.py`
turns into `bench/RESULTS.md`.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / ".work"
RESULTS_DIR = WORK_DIR / "results"
SITE_DIR = WORK_DIR / "site"
PYWB_VENV = WORK_DIR / "pywb-venv"
PYWB_VERSION = "2.10.0"
VELLUM = Path(sys.executable).parent / "vellum"
LOOPBACK = "127.0.0.1"

MARKER = "vellum-bench-marker"  # in every generated HTML page, with the page's own id after it


class BenchError(Exception):
    """A benchmark cannot give an honest figure (a tool failed, an answer was wrong)."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# tools


def run(cmd: Sequence[str | os.PathLike[str]], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; raise BenchError with its output if it fails."""
    result = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, check=False, **kwargs
    )
    if result.returncode != 0:
        raise BenchError(
            f"{' '.join(str(c) for c in cmd)} exited {result.returncode}\n"
            f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"
        )
    return result


def ensure_debian_package(package: str, binary: str) -> str:
    """The path of `binary`, installing Debian's `package` with apt-get when it is missing."""
    found = shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )
    if found:
        return found
    log(f"installing {package} (Debian package)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, "apt-get", "install", "-y", "-qq", package]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        run([*sudo, "apt-get", "update", "-qq"], env=env)
        run(install, env=env)
    found = shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )
    if not found:
        raise BenchError(f"{package} installed but {binary} not found")
    return found


def ensure_pywb() -> Path:
    """The bin/ directory of a virtualenv holding pywb (created on first use)."""
    bin_dir = PYWB_VENV / "bin"
    wayback = bin_dir / "wayback"
    if wayback.exists() and tool_version([str(wayback), "--version"]) == f"pywb {PYWB_VERSION}":
        return bin_dir
    log(f"installing pywb {PYWB_VERSION} into {PYWB_VENV}")
    if not (bin_dir / "python").exists():
        run(["python3", "-m", "venv", PYWB_VENV])
    run([bin_dir / "pip", "install", "-q", f"pywb=={PYWB_VERSION}"])
    return bin_dir


def tool_version(cmd: Sequence[str], pattern: str | None = None) -> str:
    """The first line `cmd` prints, or the first group of `pattern` searched in its output."""
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    text = (result.stdout + result.stderr).strip()
    if pattern is not None:
        match = re.search(pattern, text)
        return match.group(1) if match else "?"
    lines = text.splitlines()
    return lines[0].strip() if lines else "?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[bytes] | None, timeout: float = 30) -> None:
    """Wait until `url` answers (any HTTP status); fail early if `process` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise BenchError(f"{process.args!r} exited {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{url} did not answer within {timeout:g}s")


def stop_process(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop one process we started, by its id; kill it if it does not go within 10 s."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def server(
    cmd: Sequence[str | os.PathLike[str]], url: str, log_path: Path, **kwargs: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, started, waited for at `url`, and stopped at the end."""
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            [str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, **kwargs
        )
        try:
            wait_for_http(url, process)
            yield process
        except BaseException:
            log(f"server log ({log_path}):\n{log_path.read_text(errors='replace')[-3000:]}")
            raise
        finally:
            stop_process(process)


@contextlib.contextmanager
def nginx(root: Path) -> Iterator[str]:
    """nginx serving `root` on a free loopback port; yields its base URL (ending in `/`)."""
    binary = ensure_debian_package("nginx-light", "nginx")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nginx-", dir=work_dir()) as prefix:
        os.chmod(prefix, 0o755)  # worker processes may run as another user
        for sub in ("logs", "tmp"):
            Path(prefix, sub).mkdir()
        conf = Path(prefix) / "nginx.conf"
        temp_paths = "\n".join(
            f"    {name}_temp_path {prefix}/tmp/{name};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf.write_text(
            f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 1000000;
{temp_paths}
    server {{
        listen {LOOPBACK}:{port};
        server_name localhost;
        root {root};
        index index.html;
    }}
}}
"""
        )
        base = f"http://{LOOPBACK}:{port}/"
        with server([binary, "-c", conf, "-p", prefix], base, Path(prefix) / "logs" / "out.log"):
            yield base


def work_dir() -> Path:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    return WORK_DIR


# Vellum


def vellum(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([VELLUM, "--data", data, *args])


def vellum_collection(data: Path, slug: str) -> None:
    """An organization and a collection `slug` in a fresh data directory."""
    vellum(data, "org", "create", "Benchmark Partner", "--acronym", "BENCH")
    vellum(data, "collection", "create", slug, "--org", "BENCH", "--title", "Benchmark")


# the generated site

SITE_VERSION = "2"  # bump when the generator changes: the site is then made again
_WORD_TEXT = (
    "archive collection partner heritage record digital culture memory education science "
    "library museum network public access research policy programme member region country "
    "development community knowledge language history document capture preserve web site "
    "report meeting conference project initiative network open information service data "
    "standard format quality review council committee annual strategy support training "
    "network resource national international cooperation sustainable future youth media"
)
_WORDS = tuple(_WORD_TEXT.split())


@dataclass(frozen=True)
class SiteInfo:
    """What was generated: page paths (site-relative) and the large page's path."""

    pages: list[str]  # every small HTML page, index.html first
    large_page: str
    resources: int
    private_pages: int  # disallowed by robots.txt, linked from some pages
    total_bytes: int


def ensure_site(pages: int = 1000, root: Path = SITE_DIR) -> SiteInfo:
    """Generate the static site in `root` unless the same one is already there."""
    stamp = root.with_name(root.name + ".json")
    wanted = {"version": SITE_VERSION, "pages": pages}
    if stamp.exists():
        saved = json.loads(stamp.read_text())
        if saved.get("spec") == wanted:
            return SiteInfo(**saved["info"])
    if root.exists():
        shutil.rmtree(root)
    info = _generate_site(root, pages)
    stamp.write_text(json.dumps({"spec": wanted, "info": asdict(info)}))
    return info


def _generate_site(root: Path, count: int) -> SiteInfo:
    rng = random.Random(20261127)
    root.mkdir(parents=True)
    resources = _write_resources(root, rng)
    per_section = 50
    paths = [f"s{i // per_section:02d}/p{i:04d}.html" for i in range(count)]
    links: list[list[int]] = []
    for i in range(count):
        # i+1, 2i+1 and 2i+2 make every page reachable in ~log2(count) hops; the rest random
        chosen = [(i + 1) % count, (2 * i + 1) % count, (2 * i + 2) % count]
        while len(chosen) < 10:
            chosen.append(rng.randrange(count))
        links.append(list(dict.fromkeys(c for c in chosen if c != i)))
    depth = _max_depth(links)
    if depth > 40:
        raise BenchError(f"generated site too deep ({depth} hops)")
    total = 0
    for i, path in enumerate(paths):
        html = _page(i, path, [paths[j] for j in links[i]], resources, rng, paragraphs=None)
        total += _write(root / path, html.encode())
    home_links = [paths[0], "large.html"]
    home = _page(-1, "index.html", home_links, resources, rng, paragraphs=8)
    total += _write(root / "index.html", home.encode())
    large = _page(-2, "large.html", paths[:10], resources, rng, 690, directory=paths)
    total += _write(root / "large.html", large.encode())
    private = 5
    for k in range(private):
        total += _write(root / "private" / f"secret{k}.html", b"<html><body>secret</body></html>")
    total += _write(root / "robots.txt", b"User-agent: *\nDisallow: /private/\n")
    return SiteInfo(
        pages=["index.html", *paths],
        large_page="large.html",
        resources=len(resources),
        private_pages=private,
        total_bytes=total,
    )


def _max_depth(links: list[list[int]]) -> int:
    hops = {0: 0}
    queue = deque([0])
    while queue:
        node = queue.popleft()
        for nxt in links[node]:
            if nxt not in hops:
                hops[nxt] = hops[node] + 1
                queue.append(nxt)
    if len(hops) != len(links):
        raise BenchError("generated site has unreachable pages")
    return max(hops.values())


def _write(path: Path, data: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _png(rng: random.Random, width: int, height: int) -> bytes:
    """A real RGB PNG of noise-like blocks (so it does not compress to nothing)."""
    raw = bytearray()
    for _y in range(height):
        raw.append(0)
        for _x in range(width):
            raw.extend(rng.randrange(256).to_bytes(1, "big") * 3)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def _write_resources(root: Path, rng: random.Random) -> list[str]:
    """20 stylesheets, 15 images and 15 scripts, all used by every page."""
    images = [f"img/pic{i:02d}.png" for i in range(15)]
    for i, path in enumerate(images):
        side = 40 + 6 * i
        _write(root / path, _png(rng, side, side))
    sheets = [f"css/style{i:02d}.css" for i in range(20)]
    for i, path in enumerate(sheets):
        rules = [
            f".c{i}-{k} {{ margin: {k}px {i}px; padding: 0 {k % 7}em; "
            f"color: #{rng.randrange(16**6):06x};"
            f" font: {12 + k % 6}px/1.4 Georgia, serif; }}"
            for k in range(60)
        ]
        rules.append(f".hero{i} {{ background: url(../{images[i % len(images)]}) no-repeat; }}")
        _write(root / path, ("\n".join(rules) + "\n").encode())
    scripts = [f"js/app{i:02d}.js" for i in range(15)]
    for i, path in enumerate(scripts):
        body = "\n".join(
            f"function f{i}_{k}(a, b) {{ const v = a * {k} + b; "
            f"return v > {rng.randrange(1000)} ? v - {k} : v + {i}; }}"
            for k in range(80)
        )
        _write(root / path, f"'use strict';\n{body}\n".encode())
    return sheets + images + scripts


def _page(
    number: int,
    path: str,
    links: list[str],
    resources: list[str],
    rng: random.Random,
    paragraphs: int | None,
    directory: Sequence[str] = (),
) -> str:
    """One HTML page of realistic markup; `number` -1 is the home page, -2 the large one.

    `directory` adds a link-dense listing (one table row per page), as report and index
    pages have.
    """
    up = "../" * path.count("/")
    ident = {-1: "home", -2: "large"}.get(number, f"{number:04d}")
    title = {-1: "Home", -2: "Annual report (full text)"}.get(number, f"Page {number:04d}")
    css = "\n".join(
        f'    <link rel="stylesheet" href="{up}{r}">' for r in resources if r.endswith(".css")
    )
    js = "\n".join(
        f'    <script src="{up}{r}" defer></script>' for r in resources if r.endswith(".js")
    )
    images = [r for r in resources if r.endswith(".png")]
    nav = "\n".join(f'        <li><a href="{up}{link}">{link}</a></li>' for link in links)
    count = paragraphs if paragraphs is not None else rng.randrange(10, 42)
    body: list[str] = []
    for k in range(count):
        if k % 6 == 0:
            body.append(f'      <h2 id="sec{k}">{_sentence(rng, 5)[:-1]}</h2>')
        text = " ".join(_sentence(rng, rng.randrange(8, 20)) for _ in range(4))
        if k % 3 == 0 and links:
            target = links[k % len(links)]
            text += f' See <a href="{up}{target}#sec{k}">{_sentence(rng, 3)[:-1]}</a>.'
        body.append(f'      <p class="c{k % 20}-{k % 60}">{text}</p>')
        if k % 4 == 1:
            img, wide = images[k % len(images)], images[(k + 1) % len(images)]
            body.append(
                f'      <figure style="margin: 1em {k % 5}px"><img src="{up}{img}" '
                f'srcset="{up}{img} 1x, {up}{wide} 2x" width="64" height="64" '
                f'alt="{_sentence(rng, 4)[:-1]}"><figcaption>{_sentence(rng, 7)}</figcaption>'
                "</figure>"
            )
        if k % 9 == 2:
            rows = "".join(
                f"<tr><td>{rng.choice(_WORDS)}</td><td>{rng.randrange(10000)}</td>"
                f"<td>{rng.choice(_WORDS)}</td></tr>"
                for _ in range(6)
            )
            body.append(
                "      <table><thead><tr><th>Name</th><th>Value</th><th>Note</th></tr>"
                f"</thead><tbody>{rows}</tbody></table>"
            )
    if directory:
        rows = "\n".join(
            f'        <tr><td><a href="{up}{target}">{target}</a></td>'
            f'<td style="color: #{rng.randrange(16**6):06x}">{_sentence(rng, 6)}</td>'
            f'<td><img src="{up}{images[i % len(images)]}" width="16" height="16" alt=""></td></tr>'
            for i, target in enumerate(directory)
        )
        body.append(f'      <table class="directory">\n{rows}\n      </table>')
    unused = [img for img in images if all(img not in line for line in body)]
    body.extend(f'      <img src="{up}{img}" alt="" loading="lazy">' for img in unused)
    if number >= 0 and number % 200 == 0:
        secret = f"{up}private/secret{(number // 200) % 5}.html"
        body.append(f'      <p><a href="{secret}">staff</a></p>')
    section = "\n".join(body)
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="description" content="{_sentence(rng, 12)}">
    <title>{title} | Benchmark Partner Network</title>
    <link rel="icon" href="{up}{images[1]}">
{css}
    <style>
      .hero {{ background: url("{up}{images[2]}") center / cover; min-height: 12rem; }}
      .page-{ident} main {{ max-width: 60rem; margin: 0 auto; }}
    </style>
{js}
    <script>
      window.siteConfig = {{ page: "{ident}", section: "{path.split("/")[0]}", lang: "en" }};
      document.documentElement.className += " js";
    </script>
  </head>
  <body class="page page-{ident}">
    <header class="site-header hero">
      <a class="logo" href="{up}index.html"><img src="{up}{images[0]}" alt="Benchmark Partner"></a>
      <form action="{up}search" method="get"><input name="q" type="search"></form>
    </header>
    <nav class="related">
      <ul>
{nav}
      </ul>
    </nav>
    <main>
      <h1>{title}</h1>
      <p class="lead">{MARKER}-{ident} {_sentence(rng, 14)}</p>
{section}
    </main>
    <footer><p>&copy; 2026 Benchmark Partner Network. <a href="#top">Back to top</a></p></footer>
  </body>
</html>
"""


# WARC files


@dataclass(frozen=True)
class WarcCounts:
    responses: int
    html_pages: int  # 200 text/html responses
    payload_bytes: int  # HTTP bodies of all responses


def count_warcs(paths: Sequence[Path]) -> WarcCounts:
    """Count `response` records (and their HTML pages and payload) with fastwarc."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    responses = html = payload = 0
    for path in paths:
        with open(path, "rb") as f:
            for record in ArchiveIterator(f, record_types=WarcRecordType.response, parse_http=True):
                responses += 1
                body = record.reader.read()
                payload += len(body)
                content_type = (record.http_headers.get("Content-Type") or "").lower()
                if record.http_headers.status_code == 200 and content_type.startswith("text/html"):
                    html += 1
    return WarcCounts(responses, html, payload)


# other work on the machine

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BUSY_LIMIT = 0.15  # cores' worth of other processes' CPU above which a measure is retried


def _busy_ticks() -> int:
    """CPU time spent by every process on the machine (user + nice + system), in ticks."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[1]) + int(fields[2]) + int(fields[3])


def _own_ticks() -> int:
    """CPU time of this process and all its descendants, finished ones included."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        ticks[pid] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


@dataclass
class OtherLoad:
    """CPU used by processes outside this benchmark while it measured, in cores."""

    cores: float = 0.0


@contextlib.contextmanager
def other_load() -> Iterator[OtherLoad]:
    """Measure how busy the rest of the machine was during the `with` block.

    Time the kernel spends on our loopback traffic outside our processes can show up
    here too, so a few hundredths of a core are normal.
    """
    load = OtherLoad()
    busy, own, started = _busy_ticks(), _own_ticks(), time.monotonic()
    yield load
    elapsed = time.monotonic() - started
    others = (_busy_ticks() - busy) - (_own_ticks() - own)
    load.cores = max(0.0, others / _CLOCK_TICKS / elapsed) if elapsed > 0 else 0.0


T = TypeVar("T")
# Seconds a whole run may spend waiting for the machine to be quiet and measuring again;
# once spent, each measure is taken once and its other load reported as it was.
_patience = [150.0]


def wait_for_quiet(sample: float = 0.5) -> float:
    """Wait (within the run's patience) until other processes use under BUSY_LIMIT cores."""
    while True:
        with other_load() as load:
            time.sleep(sample)
        if load.cores <= BUSY_LIMIT or _patience[0] <= 0:
            return load.cores
        log(f"  waiting: other processes are using {load.cores:.2f} cores")
        time.sleep(2)
        _patience[0] -= 2 + sample


def measure_quietly(label: str, measure: Callable[[], T], attempts: int = 3) -> tuple[T, float]:
    """Run `measure` when the machine is quiet; again if others got busy meanwhile.

    Returns the value measured with the least other load, and that load (in cores).
    """
    best: tuple[T, float] | None = None
    for attempt in range(attempts):
        if attempt and _patience[0] <= 0:
            log(f"  {label}: no patience left; keeping a measure taken under other load")
            break
        wait_for_quiet()
        started = time.monotonic()
        with other_load() as load:
            value = measure()
        if attempt:
            _patience[0] -= time.monotonic() - started
        if best is None or load.cores < best[1]:
            best = (value, load.cores)
        if load.cores <= BUSY_LIMIT:
            break
        log(f"  {label}: other processes used {load.cores:.2f} cores meanwhile; measuring again")
    assert best is not None
    return best


# results


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}×" if theirs else "n/a"


def save_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def load_results(name: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def machine_info() -> dict[str, str]:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    date = subprocess.run(["date", "-u"], capture_output=True, text=True, check=False)
    return {
        "date": date.stdout.strip(),
        "nproc": tool_version(["nproc"]),
        "cpu": cpu,
        "ram": ram,
        "python": sys.version.split()[0],
    }
