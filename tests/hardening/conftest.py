"""Fixtures of the hardening suite: `pysandbox run` as root and as the delegated test user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cgroups.delegation import delegated_user

__all__ = ["delegated_user"]


@pytest.fixture(params=["root", "rootless"])
def cli(request: pytest.FixtureRequest, world_tmp: Path) -> Any:
    """cli(*args) -> CompletedProcess of `pysandbox run ARGS`, as root or as the test user."""
    if request.param == "rootless":
        user = request.getfixturevalue("delegated_user")
        home = world_tmp / "psbhome-hardening-rootless"
        home.mkdir(exist_ok=True)
        os.chown(home, user.uid, user.gid)

        def as_user(*args: str) -> subprocess.CompletedProcess[str]:
            proc: subprocess.CompletedProcess[str] = user.pysandbox(
                "run", *args, env={"PYSANDBOX_HOME": str(home)}
            )
            return proc

        return as_user

    def as_root(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "pysandbox", "run", *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    return as_root


@pytest.fixture
def run(cli: Any, busybox_rootfs: Path) -> Any:
    """run(*args) -> CompletedProcess of `pysandbox run --rootfs BUSYBOX ARGS`."""
    return lambda *args: cli("--rootfs", str(busybox_rootfs), *args)
