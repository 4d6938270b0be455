"""Fixtures for the sandbox core: one runner per mode (root, rootless), rootfs copies, helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_root

MODES = [pytest.param("root", marks=requires_root), "rootless"]


@dataclass
class Psb:
    """Runs `pysandbox run ...` as root or as the unprivileged test user."""

    mode: str
    rootfs: Path  # root-owned busybox rootfs (world-readable)
    user_rootfs: Path  # a copy owned by the user who runs the sandbox
    home: Path  # PYSANDBOX_HOME of that user
    user: Any  # tests.conftest.TestUser

    def argv(self, *args: str) -> list[str]:
        python = sys.executable if self.mode == "root" else self.user.python
        return [python, "-m", "pysandbox", "run", *args]

    def env(self) -> dict[str, str]:
        if self.mode == "root":
            return dict(os.environ)
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.user.home),
            "LANG": "C.UTF-8",
            "PYSANDBOX_HOME": str(self.home),
        }

    def run(
        self, *args: str, timeout: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full = self.env()
        full.update(env or {})
        done: subprocess.CompletedProcess[str] = subprocess.run(
            self.argv(*args), capture_output=True, text=True, timeout=timeout, env=full, **self._who()
        )
        return done

    def popen(self, *args: str, pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[str]:
        proc: subprocess.Popen[str] = subprocess.Popen(
            self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env(),
            pass_fds=pass_fds, **self._who(),
        )  # fmt: skip
        return proc

    def _who(self) -> dict[str, Any]:
        if self.mode == "root":
            return {}
        return {"user": self.user.uid, "group": self.user.gid, "extra_groups": [], "cwd": str(self.user.home)}


@pytest.fixture(scope="session")
def user_rootfs(test_user: Any, world_tmp: Path, busybox_rootfs: Path) -> Path:
    """The busybox rootfs copied by the test user, so that it owns it (inside: root's files)."""
    parent = world_tmp / "user-owned"
    parent.mkdir(exist_ok=True)
    os.chown(parent, test_user.uid, test_user.gid)
    dest = parent / "busybox"
    if not dest.exists():
        done = test_user.run(["cp", "-a", str(busybox_rootfs), str(dest)])
        assert done.returncode == 0, done.stderr
    return dest


def _psb(
    mode: str,
    request: pytest.FixtureRequest,
    test_user: Any,
    busybox_rootfs: Path,
    user_rootfs: Path,
    psb_home: Path,
) -> Iterator[Psb]:
    if mode == "root":
        yield Psb(mode, busybox_rootfs, busybox_rootfs, psb_home, test_user)
        return
    home = test_user.home / "psbhome" / request.node.name.replace("[", "_").replace("]", "")
    if os.geteuid() == 0:
        home.mkdir(parents=True, exist_ok=True)
        os.chown(home, test_user.uid, test_user.gid)
    try:
        yield Psb(mode, busybox_rootfs, user_rootfs, home, test_user)
    finally:
        if os.geteuid() == 0:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(params=MODES)
def psb_mode(
    request: pytest.FixtureRequest, test_user: Any, busybox_rootfs: Path, user_rootfs: Path, psb_home: Path
) -> Iterator[Psb]:
    """`pysandbox run` as root and as the unprivileged test user."""
    yield from _psb(request.param, request, test_user, busybox_rootfs, user_rootfs, psb_home)


@pytest.fixture
def psb_user(
    request: pytest.FixtureRequest, test_user: Any, busybox_rootfs: Path, user_rootfs: Path, psb_home: Path
) -> Iterator[Psb]:
    """Only the unprivileged test user."""
    yield from _psb("rootless", request, test_user, busybox_rootfs, user_rootfs, psb_home)


@pytest.fixture
def psb_self(test_user: Any, busybox_rootfs: Path, user_rootfs: Path, psb_home: Path) -> Psb:
    """Runs as whoever runs the suite (mode-independent checks such as flag parsing)."""
    mode = "root" if os.geteuid() == 0 else "rootless"
    return Psb(mode, busybox_rootfs, busybox_rootfs if mode == "root" else user_rootfs, psb_home, test_user)


def one_line_error(stderr: str) -> str:
    """The single `pysandbox: error:` line of a failed run (and no traceback)."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("pysandbox: error:")]
    assert len(errors) == 1, stderr
    return errors[0]


@pytest.fixture
def world_dir(world_tmp: Path) -> Iterator[Path]:
    """A fresh world-readable directory (profiles, bind sources) removed after the test."""
    path = Path(tempfile.mkdtemp(dir=world_tmp))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def profile_file(world_dir: Path) -> Callable[[str], Path]:
    """Writes a world-readable profile YAML and returns its path."""

    def make(text: str, name: str = "custom") -> Path:
        path = world_dir / f"{name}.yaml"
        path.write_text(text)
        path.chmod(0o644)
        return path

    return make


@pytest.fixture
def out() -> Iterator[Any]:
    """A file for a sandbox's stdout and stderr, read back with `taken`."""
    with tempfile.TemporaryFile("w+") as fh:
        yield fh


def taken(fh: Any) -> str:
    """What was written to `fh` so far; empties it for the next run."""
    fh.seek(0)
    text: str = fh.read()
    fh.seek(0)
    fh.truncate()
    return text
