"""Debian's Chromium for the browser tests: where it is, how it starts, one fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# No sandbox as root; no background traffic (the machine's network is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Fail (not skip) when the set-up did not install Chromium."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs the Debian package chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Chromium shared by the tests of one module."""
    require_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
