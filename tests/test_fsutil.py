"""fsutil.atomic_write_bytes: readers see the old file or the new one, and a writer that dies at any
point leaves no temp file behind (real processes killed with SIGKILL mid-write)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pysandbox.fsutil import atomic_write_bytes

# The child writes one file and kills itself with SIGKILL at the step named in argv[2]: after the
# data is written and fsync'd (the unnamed file complete, not yet linked) or while naming it.
KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
import pysandbox.fsutil as fsutil

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[2] == "fsync":
    os.fsync = die
else:
    fsutil._link_temp = die
fsutil.atomic_write_bytes(Path(sys.argv[1]), b"new" * 100000, durable=True)
"""


def test_replaces_the_file_with_the_mode_given(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new", 0o600)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["f.bin"]


@pytest.mark.parametrize("step", ["fsync", "link"])
def test_a_writer_killed_mid_write_leaves_the_old_file_and_nothing_else(tmp_path: Path, step: str) -> None:
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target), step], check=False)
    assert done.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_a_stale_temp_of_a_dead_writer_with_our_pid_is_replaced(tmp_path: Path) -> None:
    import pysandbox.fsutil as fsutil

    target = tmp_path / "f.bin"
    counter = next(fsutil._counter) + 1  # the name the next write will take
    stale = tmp_path / f".f.bin.{os.getpid()}.{counter}.tmp"
    stale.write_bytes(b"stale")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_a_symlink_planted_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"keep")
    (tmp_path / "d").mkdir()
    target = tmp_path / "d" / "f.bin"
    target.symlink_to(outside)
    atomic_write_bytes(target, b"new")
    assert outside.read_bytes() == b"keep"
    assert not target.is_symlink() and target.read_bytes() == b"new"


def test_a_missing_directory_fails_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "no" / "f.bin", b"x")
    assert os.listdir(tmp_path) == []
