"""The per-user ACL `setup --delegate` puts on /dev/net/tun where it is 0600, tried on a stand-in
file (the machine's own node is left alone here; the launcher tests use it for real)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pysandbox.sandbox.network import tun


@pytest.fixture
def node(world_tmp: Path) -> Iterator[Path]:
    path = world_tmp / f"tun-{os.getpid()}"
    path.write_bytes(b"")
    path.chmod(0o600)
    yield path
    path.unlink()


def can_write(uid: int, path: Path) -> bool:
    argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "test", "-w", str(path)]
    return subprocess.run(argv, timeout=10).returncode == 0


def test_grant_then_revoke(node: Path, test_user: Any) -> None:
    assert not can_write(test_user.uid, node)
    assert tun.grant(test_user.uid, str(node)) is True
    assert can_write(test_user.uid, node)
    assert not can_write(65534, node)  # only that user
    assert tun.revoke(test_user.uid, str(node)) is True
    assert not can_write(test_user.uid, node)
    assert node.stat().st_mode & 0o777 == 0o600
    with pytest.raises(OSError):
        os.getxattr(node, "system.posix_acl_access")
    assert tun.revoke(test_user.uid, str(node)) is False


def test_grant_not_needed_when_world_writable(node: Path, test_user: Any) -> None:
    node.chmod(0o666)
    assert tun.grant(test_user.uid, str(node)) is False
