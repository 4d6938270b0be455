"""Behaviour both backends share, run against real v1 cgroups and the v2 file tree alike."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from cgroups.conftest import Harness, spawn
from pysandbox.policies.model import Limits
from pysandbox.sandbox import cgroups
from pysandbox.sandbox.cgroups.base import Cgroup
from pysandbox.sandbox.launcher import join_cgroup
from pysandbox.types import SandboxError

MiB = 1 << 20


@pytest.fixture
def made(harness: Harness) -> Iterator[list[Cgroup]]:
    """Cgroups a test creates; removed at the end even when the test fails."""
    created: list[Cgroup] = []
    yield created
    for cg in created:
        cg.remove()


def make(harness: Harness, made: list[Cgroup], name: str, limits: Limits) -> Cgroup:
    cg = cgroups.create(f"{name}-{os.getpid()}", limits, backend=harness.backend)
    assert cg is not None
    made.append(cg)
    return cg


def test_no_limits_no_cgroup(harness: Harness) -> None:
    assert cgroups.create("nolimits", Limits(), backend=harness.backend) is None


def test_limits_are_written(harness: Harness, made: list[Cgroup]) -> None:
    limits = Limits(memory=64 * MiB, memory_swap=96 * MiB, cpus=0.5, cpuset_cpus="0", pids=32)
    cg = make(harness, made, "limits", limits)
    assert harness.read(cg) == {
        "memory": 64 * MiB,
        "swap": 32 * MiB,
        "cpu": (50000, 100000),
        "cpuset": "0",
        "pids": "32",
    }


@pytest.mark.parametrize(("memory_swap", "swap"), [(None, 64 * MiB), (-1, None), (64 * MiB, 0)])
def test_swap_follows_docker(
    harness: Harness, made: list[Cgroup], memory_swap: int | None, swap: int | None
) -> None:
    """Unset: as much swap as memory; -1: unlimited; equal to --memory: no swap."""
    cg = make(harness, made, "swap", Limits(memory=64 * MiB, memory_swap=memory_swap))
    assert harness.read(cg)["swap"] == swap


def test_add_then_remove_kills_and_cleans(harness: Harness, made: list[Cgroup]) -> None:
    cg = make(harness, made, "lifecycle", Limits(pids=16))
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        cg.add(proc.pid)
        assert cg.procs() == [proc.pid]
        cg.remove()
        assert proc.wait(timeout=10) == -signal.SIGKILL
        assert not any(os.path.exists(d) for d in cg.dirs)
        cg.remove()  # idempotent
    finally:
        proc.kill()
        proc.wait()


def test_children_stay_inside(harness: Harness, made: list[Cgroup]) -> None:
    """Added before it forks, every descendant of the first process is in the cgroup."""
    cg = make(harness, made, "children", Limits(pids=16))
    proc = spawn("import subprocess\nsubprocess.run(['sleep', '60'])")
    try:
        cg.add(proc.pid)
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 10
        while len(cg.procs()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(cg.procs()) == 2
    finally:
        cg.remove()
        proc.wait()


def test_a_forked_child_moves_itself_in(harness: Harness, made: list[Cgroup]) -> None:
    """v1: the launcher opens each hierarchy's `tasks` file and its forked child writes itself in
    (skipping the wait for an RCU grace period of a `cgroup.procs` write). The v2 tree offers no
    such files: the launcher adds the child with `add`."""
    cg = make(harness, made, "selfjoin", Limits(pids=16))
    files = cg.open_self_join()
    if cg.backend == "v2":
        assert files is None
        return
    assert files is not None and len(files) == len(cg.dirs)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            join_cgroup(files)
            os.write(w, b"in")
            time.sleep(60)
        finally:
            os._exit(0)
    for fd in files:
        os.close(fd)
    try:
        assert os.read(r, 2) == b"in"
        assert cg.procs() == [pid]
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(r)
        os.close(w)


def test_same_sandbox_twice_refused(harness: Harness, made: list[Cgroup]) -> None:
    make(harness, made, "twice", Limits(pids=8))
    with pytest.raises(SandboxError, match="already exists"):
        cgroups.create(f"twice-{os.getpid()}", Limits(pids=8), backend=harness.backend)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (Limits(cpuset_cpus="7"), "--cpuset-cpus 7 is not available"),
        (Limits(cpuset_cpus="zero"), "is not a cpu list"),
        (Limits(cpus=99.0), "--cpus 99.0 is out of range"),
        (Limits(memory=1024), "below the minimum"),
        (Limits(memory=64 * MiB, memory_swap=32 * MiB), "--memory-swap is below --memory"),
        (Limits(memory_swap=64 * MiB), "--memory-swap needs --memory"),
    ],
)
def test_bad_limits_fail_and_leave_nothing(harness: Harness, limits: Limits, message: str) -> None:
    name = f"bad-{os.getpid()}"
    with pytest.raises(SandboxError, match=message):
        cgroups.create(name, limits, backend=harness.backend)
    assert harness.leaf_dirs(f"psb-{name}") == []


def test_bad_sandbox_id(harness: Harness) -> None:
    with pytest.raises(SandboxError, match="cannot name a cgroup"):
        cgroups.create("../escape", Limits(pids=8), backend=harness.backend)


def test_oom_kill_is_reported(harness: Harness, made: list[Cgroup]) -> None:
    limits = Limits(memory=32 * MiB, memory_swap=32 * MiB)
    cg = make(harness, made, "oom", limits)
    assert cg.stats().oom_kills == 0
    harness.oom(cg)
    stats = cg.stats()
    assert stats.oom_kills == 1
    assert stats.peak_memory is not None
    assert cgroups.describe(stats, limits) == [
        "out of memory: the kernel killed 1 process at the --memory limit of 32 MiB"
    ]


def test_pids_limit_hit_is_reported(harness: Harness, made: list[Cgroup]) -> None:
    limits = Limits(pids=4)
    cg = make(harness, made, "pids", limits)
    assert cg.stats().pids_limit_hits == 0
    harness.fork_refused(cg)
    stats = cg.stats()
    assert stats.pids_limit_hits >= 1
    (line,) = cgroups.describe(stats, limits)
    assert line.startswith("process limit reached: ") and line.endswith("refused at the --pids-limit of 4")


def test_cpu_usage_is_counted(harness: Harness, made: list[Cgroup]) -> None:
    cg = make(harness, made, "cpu", Limits(cpus=1.0))
    harness.burn_cpu(cg)
    usage = cg.stats().cpu_usage_ns
    assert usage is not None and usage >= 150_000_000


def test_stale_cgroup_of_killed_launcher_is_removed(harness: Harness, made: list[Cgroup]) -> None:
    """A launcher killed with -9 leaves its cgroup and workload behind; the next run clears both."""
    name = f"stale-{os.getpid()}"
    launcher = (
        harness.backend_code()
        + f"""
import os, signal, subprocess
from pysandbox.policies.model import Limits
from pysandbox.sandbox import cgroups
cg = cgroups.create({name!r}, Limits(pids=8), backend=backend)
quiet = subprocess.DEVNULL
child = subprocess.Popen(["sleep", "60"], start_new_session=True, stdout=quiet, stderr=quiet)
cg.add(child.pid)
print(child.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    )
    live = make(harness, made, "live", Limits(pids=8))
    proc = subprocess.run([sys.executable, "-c", launcher], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    orphan = int(proc.stdout.split()[0])
    try:
        assert harness.leaf_dirs(f"psb-{name}")
        removed = cgroups.cleanup_stale(backend=harness.backend)
        assert {os.path.basename(p) for p in removed} == {f"psb-{name}"}
        assert harness.leaf_dirs(f"psb-{name}") == []
        assert all(os.path.exists(d) for d in live.dirs)  # its launcher (this test) is alive
        _wait_gone(orphan)
    finally:
        _kill(orphan)


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{pid}")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
