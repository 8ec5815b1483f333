"""Real servers and real Chromium for the browser tests of framed replay."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.serving import serving as serving
from vellum.replay.frame_insert import WOMBAT_SCRIPT

STATIC = Path(__file__).resolve().parents[2] / "src" / "vellum" / "replay"


def require_wombat() -> None:
    """Fail (not skip) when the set-up did not install wombat."""
    path = STATIC / WOMBAT_SCRIPT.lstrip("/")
    if not path.is_file():
        pytest.fail(f"{path} is missing: `make install` installs @webrecorder/wombat from npm")


@contextmanager
def chromium(extra_args: tuple[str, ...] = ()) -> Iterator[Browser]:
    """Headless Chromium as a reader's browser has it: third-party storage partitioned.

    Playwright turns Chromium's storage partitioning off by default; without it a
    cross-site frame (the replay origin below the UI) may not register a service worker.
    So Playwright's `--disable-features` is replaced by the same list less that feature.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs the Debian package chromium")
    with sync_playwright() as p:
        probe = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = probe.new_page()
            page.goto("chrome://version")
            command_line = page.inner_text("#command_line")
        finally:
            probe.close()
        match = re.search(r"--disable-features=(\S+)", command_line)
        ignore: list[str] = []
        args = [*CHROMIUM_ARGS, *extra_args]
        if match:
            ignore.append(match.group(0))
            kept = [f for f in match.group(1).split(",") if f != "ThirdPartyStoragePartitioning"]
            args.append("--disable-features=" + ",".join(kept))
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=args, ignore_default_args=ignore, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
