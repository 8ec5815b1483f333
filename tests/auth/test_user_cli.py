"""`vellum user create|list|passwd` as an operator runs them."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.test_cli import VELLUM, assert_one_line_error
from vellum.catalog import Catalog
from vellum.catalog.users import Users
from vellum.cli.main import cli
from vellum.errors import VellumError
from vellum.settings import Settings

PASSWORD = "correct horse battery"


def run_in(data: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VELLUM, "--data", str(data), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


@contextmanager
def users_of(data: Path) -> Iterator[Users]:
    catalog = Catalog(Settings(data_dir=data).catalog_path)
    try:
        yield Users(catalog)
    finally:
        catalog.close()


def cli_in(data: Path, stdin: str, *args: str) -> Result:
    """`vellum` run in this process (fast); errors stay exceptions, as main() gets them."""
    return CliRunner().invoke(cli, ["--data", str(data), *args], input=stdin)


def test_create_list_passwd(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli_in(data, "", "org", "create", "Org <b>A</b>", "--acronym", "A").exit_code == 0
    admin = run_in(data, PASSWORD + "\n", "user", "create", "root", "--admin", "--password-stdin")
    assert admin.returncode == 0 and "Created administrator root" in admin.stdout
    viewer = cli_in(
        data, PASSWORD + "\n", "user", "create", "vic", "--org", "A", "--role", "viewer",
        "--password-stdin",
    )  # fmt: skip
    assert viewer.exit_code == 0 and "Created user vic, viewer of A" in viewer.output

    assert cli_in(data, "", "org", "create", "Org B", "--acronym", "B").exit_code == 0
    granted = cli_in(data, "", "user", "grant", "vic", "--org", "B", "--role", "curator")
    assert granted.exit_code == 0 and "vic is now viewer of A, curator of B" in granted.output
    listing = cli_in(data, "", "user", "list").output
    assert "root" in listing and "yes" in listing and "A (viewer), B (curator)" in listing

    with users_of(data) as users:
        assert users.get("root").admin
        assert users.verify("vic", PASSWORD) is not None
    changed = cli_in(data, "a new password\n", "user", "passwd", "vic", "--password-stdin")
    assert changed.exit_code == 0 and "Password of vic changed" in changed.output
    with users_of(data) as users:
        assert users.verify("vic", PASSWORD) is None
        assert users.verify("vic", "a new password") is not None


def test_bad_input_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cli_in(data, "", "org", "create", "Org A", "--acronym", "A")
    cli_in(data, PASSWORD + "\n", "user", "create", "vic", "--password-stdin")
    ok = PASSWORD + "\n"
    cases = [
        (ok, ["user", "create", "x" * 65, "--password-stdin"], "at most 64"),
        ("short\n", ["user", "create", "eve", "--password-stdin"], "at least 8"),
        ("\n", ["user", "create", "eve", "--password-stdin"], "at least 8"),
        (ok, ["user", "create", "VIC", "--password-stdin"], "already exists"),
        (ok, ["user", "create", "eve", "--org", "A", "--password-stdin"], "--org and --role"),
        (ok, ["user", "create", "eve", "--org", "Z", "--role", "viewer"], "no organization"),
        ("short\n", ["user", "passwd", "vic", "--password-stdin"], "at least 8"),
        (ok, ["user", "passwd", "nobody", "--password-stdin"], "no user named"),
        ("", ["user", "grant", "nobody", "--org", "A", "--role", "viewer"], "no user named"),
        ("", ["user", "grant", "vic", "--org", "Z", "--role", "viewer"], "no organization"),
    ]
    for stdin, args, needle in cases:
        result = cli_in(data, stdin, *args)
        assert isinstance(result.exception, VellumError), (args, result.output)
        assert needle in str(result.exception), args
    refused = cli_in(data, ok, "user", "create", "eve", "--role", "owner")
    assert refused.exit_code == 2 and "'owner' is not one of" in refused.output
    # As the operator sees them: one line on stderr, a non-zero exit.
    assert_one_line_error(
        run_in(data, ok, "user", "create", "<b>x</b>", "--password-stdin"), "may hold only"
    )
    with users_of(data) as users:
        assert [u.name for u in users.users()] == ["vic"]
        assert users.verify("vic", PASSWORD) is not None


@pytest.mark.slow
def test_password_is_asked_twice_without_echo(tmp_path: Path) -> None:
    data = tmp_path / "data"
    pid, fd = pty.fork()
    if pid == 0:  # the child: vellum on a terminal of its own
        os.execv(VELLUM[0], [*VELLUM, "--data", str(data), "user", "create", "dave"])
    seen = b""

    def until(needle: bytes, count: int = 1) -> None:
        nonlocal seen
        deadline = time.monotonic() + 30
        while seen.count(needle) < count and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    seen += os.read(fd, 1024)
                except OSError:
                    return

    try:
        # Type each answer only once its prompt is shown: a hidden prompt flushes
        # whatever was typed ahead.
        for typed, prompt, count in [
            (b"first password\n", b"Password: ", 1),
            (b"other password\n", b"Repeat the password: ", 1),
            (b"first password\n", b"Password: ", 2),
            (b"first password\n", b"Repeat the password: ", 2),
        ]:
            until(prompt, count)
            os.write(fd, typed)
        until(b"Created user dave")
    finally:
        status = 0
        for _ in range(100):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert b"do not match" in seen
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"Created user dave" in seen
    assert b"first password" not in seen and b"other password" not in seen
    with users_of(data) as users:
        assert users.verify("dave", "first password") is not None
