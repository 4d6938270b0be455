"""What only the v2 backend does: enabling controllers in the delegated subtree, refusing a base
that holds processes itself, preparing its base as root, io.weight, and `setup --delegate` on v2.
All against the cgroupfs-like tree of fakefs.py (this machine has no v2 controllers)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cgroups.fakefs import FakeV2Fs
from pysandbox.policies.model import Limits
from pysandbox.sandbox import cgroups
from pysandbox.sandbox.cgroups.delegate import delegate_v2, undo
from pysandbox.sandbox.cgroups.detect import v2_base
from pysandbox.sandbox.cgroups.v2 import V2Backend
from pysandbox.types import SandboxError

MiB = 1 << 20


def tree(tmp_path: Path, enabled: str = "+cpuset +cpu +io +memory +pids") -> tuple[FakeV2Fs, Path]:
    fs = FakeV2Fs.make_root(tmp_path / "cgroup2")
    base = fs.root / "delegated"
    fs.mkdir(base)
    fs.write(fs.root / "cgroup.subtree_control", enabled)
    return fs, base


def test_enables_only_what_it_needs(tmp_path: Path) -> None:
    fs, base = tree(tmp_path)
    cg = cgroups.create("enable", Limits(pids=10), backend=V2Backend(base, fs))
    assert cg is not None
    try:
        assert fs.read(base / "cgroup.subtree_control").split() == ["memory", "pids"]  # pids + stats
        assert (Path(cg.path) / "pids.max").read_text().strip() == "10"
        assert not (Path(cg.path) / "cpu.max").exists()
    finally:
        cg.remove()


def test_missing_controller_fails_closed(tmp_path: Path) -> None:
    fs, base = tree(tmp_path, enabled="+memory +pids")
    with pytest.raises(SandboxError, match=r"^cannot enforce resource limits: the cpu controller is not"):
        cgroups.create("nocpu", Limits(cpus=1.0), backend=V2Backend(base, fs))


def test_missing_controller_names_the_limit_to_go_without(tmp_path: Path) -> None:
    """Only the limit that cannot be enforced is named as the way out; with --allow-unsafe
    (unenforced) the cgroup is made with the other limits and the one left out is reported."""
    fs, base = tree(tmp_path, enabled="+memory +pids")
    with pytest.raises(SandboxError) as raised:
        cgroups.create("noio", Limits(memory=64 * MiB, io_weight=500), backend=V2Backend(base, fs))
    message = str(raised.value)
    assert message.startswith("cannot enforce resource limits: the io controller is not delegated to ")
    fix = ", or run without limits.io_weight, or pass --allow-unsafe to go without (audited)"
    assert message.endswith(fix)
    assert fs.children(base) == []
    unenforced: list[str] = []
    cg = cgroups.create("noio", Limits(memory=64 * MiB, io_weight=500), backend=V2Backend(base, fs),
                        unenforced=unenforced)  # fmt: skip
    assert cg is not None
    try:
        (left_out,) = unenforced
        assert left_out.startswith("limits.io_weight: the io controller is not delegated to ")
        assert Path(cg.path, "memory.max").read_text().strip() == str(64 * MiB)
    finally:
        cg.remove()
    assert cgroups.create("onlyio", Limits(io_weight=500), backend=V2Backend(base, fs), unenforced=[]) is None


def test_base_holding_processes_is_refused(tmp_path: Path) -> None:
    """v2's "no internal processes" rule: a base that runs processes itself cannot enable controllers."""
    fs, base = tree(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        fs.write(base / "cgroup.procs", str(proc.pid))
        with pytest.raises(SandboxError, match=r"it has processes of its own.*systemd-run --user --scope"):
            cgroups.create("busy", Limits(memory=64 * MiB), backend=V2Backend(base, fs))
        assert fs.children(base) == []
    finally:
        proc.kill()
        proc.wait()


def test_root_prepares_its_base(tmp_path: Path) -> None:
    fs = FakeV2Fs.make_root(tmp_path / "cgroup2")
    backend = V2Backend(fs.root / "pysandbox", fs, make_base=True)
    cg = cgroups.create("first", Limits(memory=64 * MiB, cpus=0.5), backend=backend)
    assert cg is not None
    try:
        assert set(fs.read(fs.root / "cgroup.subtree_control").split()) == {"cpu", "memory", "pids"}
        assert (Path(cg.path) / "cpu.max").read_text().strip() == "50000 100000"
    finally:
        cg.remove()


def test_io_weight_uses_the_v2_scale(tmp_path: Path) -> None:
    fs, base = tree(tmp_path)
    cg = cgroups.create("io", Limits(io_weight=500), backend=V2Backend(base, fs))
    assert cg is not None
    try:
        assert (Path(cg.path) / "io.weight").read_text().strip() == "default 4950"
    finally:
        cg.remove()


def test_delegate_and_undo(tmp_path: Path) -> None:
    fs = FakeV2Fs.make_root(tmp_path / "cgroup2")
    uid, gid = 65534, 65534
    (made,) = delegate_v2(fs, fs.root, uid, gid)
    sub = Path(made)
    assert sub == fs.root / "pysandbox" / f"user-{uid}"
    assert sub.stat().st_uid == uid
    for name in ("cgroup.procs", "cgroup.threads", "cgroup.subtree_control"):
        assert (sub / name).stat().st_uid == uid
    assert (sub / "memory.max").stat().st_uid == 0  # the ceiling stays root's
    assert fs.read(sub / "cgroup.subtree_control").split() == ["cpuset", "cpu", "io", "memory", "pids"]
    assert v2_base(fs.root, uid, fs) == made
    assert undo(fs, [sub]) == [made]
    assert not (fs.root / "pysandbox").exists()


def test_v2_base_as_root(tmp_path: Path) -> None:
    fs = FakeV2Fs.make_root(tmp_path / "cgroup2")
    assert v2_base(fs.root, 0, fs) == str(fs.root / "pysandbox")


def test_fake_refuses_what_the_kernel_refuses(tmp_path: Path) -> None:
    """The fake is only worth its tests if it fails where cgroupfs fails."""
    fs, base = tree(tmp_path)
    fs.write(base / "cgroup.subtree_control", "+memory +cpu")
    fs.mkdir(base / "leaf")
    cases = [
        (base / "leaf" / "memory.max", "lots", errno.EINVAL),
        (base / "leaf" / "cpu.max", "10 100000", errno.EINVAL),
        (base / "leaf" / "memory.events", "oom_kill 0", errno.EACCES),
        (base / "leaf" / "cgroup.subtree_control", "+rdma", errno.ENOENT),
        (base / "leaf" / "no.such.file", "1", errno.ENOENT),
    ]
    for path, value, code in cases:
        with pytest.raises(OSError) as info:
            fs.write(path, value)
        assert info.value.errno == code, path
    with pytest.raises(OSError) as busy:
        fs.rmdir(base)
    assert busy.value.errno == errno.EBUSY
    fs.rmdir(base / "leaf")
    assert not os.path.exists(base / "leaf")


def test_v2_base_under_systemd_delegation(tmp_path: Path) -> None:
    """No prepared subtree: the nearest ancestor of our own cgroup that has controllers and that we
    may write (as root here: any), passing over a leaf that has none."""
    fs = FakeV2Fs.make_root(tmp_path / "cgroup2")
    path = fs.root
    for name in ("user.slice", "user@1001.service", "app.slice", "run.scope"):
        fs.write(path / "cgroup.subtree_control", "+memory +pids")
        path = path / name
        fs.mkdir(path)
    own = "/user.slice/user@1001.service/app.slice/run.scope"
    assert fs.read(path / "cgroup.controllers").split() == ["memory", "pids"]
    assert v2_base(fs.root, 1001, fs, own=own) == str(path)
    fs.write(path.parent / "cgroup.subtree_control", "-memory -pids")
    assert v2_base(fs.root, 1001, fs, own=own) == str(path.parent)
    assert v2_base(fs.root, 1001, fs, own="/") is None
