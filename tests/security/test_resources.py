"""Escape attempts against resource limits, in real sandboxes, as root and rootless (the test user
after `pysandbox setup --delegate`): a fork bomb held by --pids-limit, a memory bomb held by
--memory (exit 137, OOM reported), a CPU hog throttled to --cpus. The host stays usable."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cgroups.delegation import Cli, cli_for, delegated_user  # noqa: F401 - fixtures, registered here

from pysandbox.sandbox.cgroups.v1 import v1_mounts

Start = Callable[..., subprocess.Popen[str]]
FORK_BOMB = "(bomb() { bomb | bomb & }; bomb) & exec sleep 3"
MEMORY_BOMB = "sleep 1; x=0123456789abcdef; while :; do x=$x$x; done"  # sleep: time to find its cgroup
CPU_HOG = "while :; do :; done & while :; do :; done & exec sleep 4"


@pytest.fixture(params=["root", "rootless"])
def start(request: pytest.FixtureRequest, busybox_rootfs: Path) -> Iterator[Start]:
    """start(*run_args, *cmd) -> the `pysandbox run --rootfs busybox ...` process, as root or rootless."""
    procs: list[subprocess.Popen[str]] = []
    user = request.getfixturevalue("delegated_user") if request.param == "rootless" else None
    cli: Cli = request.getfixturevalue("cli_for")

    def run(*args: str) -> subprocess.Popen[str]:
        argv, env = cli(user)
        argv += ["run", "--rootfs", str(busybox_rootfs), *args]
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd="/"
        )
        procs.append(proc)
        return proc

    yield run
    for proc in procs:
        proc.kill()
        proc.wait()


def sandbox_cgroup(controller: str, launcher: subprocess.Popen[str], timeout: float = 60) -> Path:
    """The cgroup (in one v1 hierarchy) holding the workload started by the `launcher` process."""
    mount = v1_mounts()[controller] / "pysandbox"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and launcher.poll() is None:
        for procs in mount.glob("**/psb-*/cgroup.procs"):
            try:
                pids = [int(p) for p in procs.read_text().split()]
            except OSError:
                continue
            if any(_descends(pid, launcher.pid) for pid in pids):
                return procs.parent
        time.sleep(0.02)
    _, err = launcher.communicate(timeout=30) if launcher.poll() is not None else ("", "")
    raise AssertionError(f"no sandbox cgroup for launcher {launcher.pid} (status {launcher.poll()}): {err}")


def host_can_fork() -> bool:
    return subprocess.run(["true"], timeout=10).returncode == 0


def test_fork_bomb_is_held_by_pids_limit(start: Start) -> None:
    proc = start("--pids-limit", "32", "--", "sh", "-c", FORK_BOMB)
    cgroup = sandbox_cgroup("pids", proc)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, int((cgroup / "pids.current").read_text()))
        except OSError:
            break  # the sandbox ended and its cgroup is gone
        assert host_can_fork()
        time.sleep(0.1)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert 0 < peak <= 32
    assert "process limit reached: " in err and "at the --pids-limit of 32" in err
    assert not cgroup.exists()
    assert host_can_fork()


def test_memory_bomb_is_held_by_memory_limit(start: Start) -> None:
    proc = start("--memory", "32m", "--memory-swap", "32m", "--", "sh", "-c", MEMORY_BOMB)
    cgroup = sandbox_cgroup("memory", proc)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 137, err
    assert "out of memory: the kernel killed 1 process at the --memory limit of 32 MiB" in err
    assert not cgroup.exists()
    assert host_can_fork()


def test_cpu_hog_is_throttled_to_cpus(start: Start) -> None:
    """Two busy loops (this machine has 2 cores) under --cpus 0.5: CPU time over wall time stays
    at or under 0.5 (plus one period's slack). Contention from other work on the machine can only
    lower the ratio, so the kernel's quota for the sandbox is checked as well."""
    proc = start("--cpus", "0.5", "--", "sh", "-c", CPU_HOG)
    usage_file = sandbox_cgroup("cpuacct", proc) / "cpuacct.usage"
    cpu = sandbox_cgroup("cpu", proc)
    quota = (cpu / "cpu.cfs_quota_us").read_text().strip(), (cpu / "cpu.cfs_period_us").read_text().strip()
    time.sleep(0.5)  # past start-up
    used0, wall0 = int(usage_file.read_text()), time.monotonic_ns()
    time.sleep(2)
    used1, wall1 = int(usage_file.read_text()), time.monotonic_ns()
    ratio = (used1 - used0) / (wall1 - wall0)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert ratio <= 0.6, f"the hog used {ratio:.2f} CPUs under --cpus 0.5"
    assert ratio > 0.1, f"the hog barely ran ({ratio:.2f} CPUs): the measurement says nothing"
    assert quota == ("50000", "100000")


def _descends(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            with open(f"/proc/{pid}/stat") as fh:
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
    return False
