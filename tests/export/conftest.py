"""Fixtures of the export suite: root filesystems with the escape suite's static attack helper,
`pysandbox export` through the real CLI, and runc containers that are always deleted."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from security.attackkit import _compile


@pytest.fixture(scope="session")
def attack_exe(world_tmp: Path) -> Path:
    return _compile(world_tmp)


def _attack_rootfs(base: Path, dest: Path, exe: Path) -> Path:
    shutil.copytree(base, dest, symlinks=True)
    shutil.copy2(exe, dest / "attack")
    shutil.copy2(exe, dest / "suid-attack")
    (dest / "suid-attack").chmod(0o4755)
    return dest


@pytest.fixture(scope="session")
def attack_rootfs(world_tmp: Path, busybox_rootfs: Path, attack_exe: Path) -> Iterator[Path]:
    """busybox + /attack + a setuid-root /suid-attack, owned by root."""
    path = _attack_rootfs(busybox_rootfs, world_tmp / "export-rootfs", attack_exe)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def scratch(world_tmp: Path) -> Iterator[Path]:
    """A per-test directory every user can enter (bundles, state dirs), removed afterwards."""
    path = world_tmp / f"export-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
