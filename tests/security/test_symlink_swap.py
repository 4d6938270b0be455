"""CVE-2021-30465 class: a bind target inside the root filesystem that is (or becomes, while the
sandbox is being set up) a symlink to a host directory. The volume must land inside the sandbox's
root or the sandbox must not start; the host directory the symlink names stays untouched."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .attackkit import MODES, Kit, host_diff, host_snapshot

WRITE = "echo pwned > /mnt/target/pwned 2>/dev/null; ls /mnt/target"


@pytest.fixture
def swap_rootfs(kit: Kit, request: pytest.FixtureRequest) -> Iterator[tuple[Path, Path, Path]]:
    """(rootfs with /mnt/target a symlink to a host victim directory, the victim, the volume source)."""
    mode = request.node.callspec.params["mode"]
    base = kit.world_tmp / f"swap-{mode}-{request.node.name[-12:].strip('[]')}"
    rootfs, victim, source = base / "rootfs", base / "victim", base / "source"
    shutil.copytree(kit.rootfs[mode], rootfs, symlinks=True)
    victim.mkdir()
    source.mkdir()
    (source / "from-volume").write_text("volume\n")
    for p in (base, victim, source):
        p.chmod(0o777 if p == victim else 0o755)
    (rootfs / "mnt" / "target").symlink_to(victim)
    if mode == "rootless":
        os.lchown(rootfs / "mnt" / "target", kit.test_user.uid, kit.test_user.gid)
        for p in (source, source / "from-volume"):
            os.chown(p, kit.test_user.uid, kit.test_user.gid)
    try:
        yield rootfs, victim, source
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _args(rootfs: Path, source: Path) -> list[str]:
    return [
        "--profile",
        "default",
        "--rootfs",
        str(rootfs),
        "-v",
        f"{source}:/mnt/target",
        "--",
        "/bin/sh",
        "-c",
        WRITE,
    ]


def _mounts_at(path: Path) -> list[str]:
    return [
        line for line in Path("/proc/self/mountinfo").read_text().splitlines() if line.split()[4] == str(path)
    ]


@pytest.mark.parametrize("mode", MODES)
def test_symlink_bind_target_stays_inside(kit: Kit, mode: str, swap_rootfs: tuple[Path, Path, Path]) -> None:
    rootfs, victim, source = swap_rootfs
    before = host_snapshot(kit)
    proc = kit.run(mode, _args(rootfs, source))
    assert os.listdir(victim) == [] and _mounts_at(victim) == []
    if proc.returncode == 0:
        assert "from-volume" in proc.stdout  # the volume is where the sandbox sees /mnt/target
    else:
        assert proc.returncode == 125 and proc.stderr.startswith("pysandbox: error:"), proc.stderr
    assert host_diff(before, host_snapshot(kit)) == {}


@pytest.mark.parametrize("mode", MODES)
def test_symlink_swapped_in_during_setup(kit: Kit, mode: str, swap_rootfs: tuple[Path, Path, Path]) -> None:
    """A thread flips /mnt/target between a directory and the symlink while sandboxes start."""
    rootfs, victim, source = swap_rootfs
    target = rootfs / "mnt" / "target"
    target.unlink()
    target.mkdir()
    parked = rootfs / "mnt" / "target.dir"
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            try:
                target.rename(parked)
                target.symlink_to(victim)
                target.unlink()
                parked.rename(target)
            except OSError:
                pass

    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    try:
        for _ in range(12):
            proc = kit.run(mode, _args(rootfs, source))
            assert os.listdir(victim) == [] and _mounts_at(victim) == []
            assert proc.returncode in (0, 125), proc.stderr
    finally:
        stop.set()
        flipper.join()
    assert os.listdir(victim) == []
