"""`pysandbox setup --delegate` for the test user, undone afterwards unless it was there before
(another suite or the machine's admin may rely on it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

MARKER = Path("/sys/fs/cgroup/memory/pysandbox")


def run_setup(user: str, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pysandbox", "setup", "--delegate", user, *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@contextmanager
def delegated(user: str, uid: int) -> Iterator[None]:
    existed = (MARKER / f"user-{uid}").exists()
    done = run_setup(user)
    assert done.returncode == 0, done.stderr
    try:
        yield
    finally:
        if not existed:
            undone = run_setup(user, "--undo")
            assert undone.returncode == 0, undone.stderr


@pytest.fixture(scope="session")
def delegated_user(test_user: Any) -> Iterator[Any]:
    """The test user after `pysandbox setup --delegate` (cgroup subtrees; /dev/net/tun where 0600)."""
    with delegated(test_user.name, test_user.uid):
        yield test_user


def pysandbox_cli(user: Any | None, home: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """argv prefix and environment that run this checkout's CLI as root (None) or as `user`, with
    PYSANDBOX_HOME at `home` (the user's must be writable by it: see `sandbox_home`)."""
    if user is None:
        env = dict(os.environ)
        if home is not None:
            env["PYSANDBOX_HOME"] = str(home)
        return [sys.executable, "-m", "pysandbox"], env
    drop = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups"]
    state = str(home or user.home / "psbhome")
    env = {"PATH": os.environ["PATH"], "HOME": str(user.home), "PYSANDBOX_HOME": state, "LANG": "C.UTF-8"}
    return [*drop, user.python, "-m", "pysandbox"], env


@contextmanager
def sandbox_home(user: Any | None) -> Iterator[Path]:
    """A fresh PYSANDBOX_HOME the given user (None: root) owns, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="psb-home-", dir="/var/tmp"))
    try:
        if user is not None:
            os.chown(path, user.uid, user.gid)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


Cli = Callable[[Any | None], tuple[list[str], dict[str, str]]]


@pytest.fixture
def cli_for() -> Iterator[Cli]:
    """cli_for(user) -> `pysandbox_cli` with a fresh PYSANDBOX_HOME owned by that user."""
    with ExitStack() as stack:

        def make(user: Any | None) -> tuple[list[str], dict[str, str]]:
            return pysandbox_cli(user, stack.enter_context(sandbox_home(user)))

        yield make
