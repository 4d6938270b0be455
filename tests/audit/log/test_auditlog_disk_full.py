"""An audit log on a filesystem that is full: a one-line error that names the disk, not "not a
usable audit log: move it aside" (which would send the user after a healthy log). A real tmpfs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import requires_root

from pysandbox.audit.store import Store
from pysandbox.types import UserError


@pytest.fixture
def full_dir(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs filled up (unmounted at the end, whatever the test did)."""
    target = tmp_path / "full"
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(target)], check=True)
    try:
        fd = os.open(target / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass  # ENOSPC: full
        finally:
            os.close(fd)
        yield target
    finally:
        if subprocess.run(["umount", str(target)], check=False).returncode:
            subprocess.run(["umount", "--lazy", str(target)], check=True)


@requires_root
def test_a_full_disk_is_named_as_such(full_dir: Path) -> None:
    path = full_dir / "audit.db"
    store = Store(path)
    with pytest.raises(UserError) as exc:
        store.conn()
    message = str(exc.value)
    assert message.startswith(f"cannot write the audit log {path}: database or disk is full: free space")
    assert "move it aside" not in message
    assert not os.path.exists(f"{path}-wal") or os.path.getsize(f"{path}-wal") == 0
