"""Fixtures of the export suite: root filesystems with the escape suite's static attack helper,
`pysandbox export` through the real CLI, and runc containers that are always deleted."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from security.attackkit import build_attack_rootfs, compile_attack


@pytest.fixture(scope="session")
def attack_exe(world_tmp: Path) -> Path:
    return compile_attack(world_tmp)


@pytest.fixture(scope="session")
def attack_rootfs(world_tmp: Path, busybox_rootfs: Path, attack_exe: Path) -> Iterator[Path]:
    """busybox + /attack + a setuid-root /suid-attack, owned by root."""
    path = build_attack_rootfs(busybox_rootfs, world_tmp / "export-rootfs", attack_exe)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def scratch(world_tmp: Path) -> Iterator[Path]:
    """A per-test directory every user can enter (bundles, state dirs), removed afterwards."""
    path = world_tmp / f"export-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
