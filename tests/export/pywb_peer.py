"""pywb 2.10 in a virtualenv of its own (cached), and one request to a wayback server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PYWB_VERSION = "2.10.0"
REPO = Path(__file__).resolve().parents[2]
# bench/replay.py's venv if it is there, else one in the user's cache
CANDIDATES = (
    REPO / "bench" / ".work" / "pywb-venv",
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vellum-tests" / "pywb-venv",
)


def _has_pywb(venv: Path) -> bool:
    wayback = venv / "bin" / "wayback"
    if not wayback.exists():
        return False
    out = subprocess.run([str(wayback), "--version"], capture_output=True, text=True)
    return f"pywb {PYWB_VERSION}" in out.stdout + out.stderr


def pywb_bin() -> Path:
    """The bin/ directory of a venv with pywb, installed on first use (else a skip)."""
    for venv in CANDIDATES:
        if _has_pywb(venv):
            return venv / "bin"
    venv = CANDIDATES[1]
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True)
    if made.returncode == 0:
        made = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"pywb=={PYWB_VERSION}"],
            capture_output=True,
            timeout=600,
        )
    if made.returncode != 0 or not _has_pywb(venv):
        pytest.skip(f"pywb {PYWB_VERSION} cannot be installed here: {made.stderr[-300:]!r}")
    return venv / "bin"


def pywb_fetch(bin_dir: Path, root: Path, path: str) -> bytes:
    """Start `wayback` in `root` on a free loopback port, GET `path`, stop it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [str(bin_dir / "wayback"), "-b", "127.0.0.1", "-p", str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
                    return r.read()
            except urllib.error.HTTPError as error:
                raise AssertionError(f"pywb answered {error.code} for {path}") from None
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(10)
        if server.stderr is not None:
            server.stderr.close()
