"""cgroups through `pysandbox run`: limits reach the sandbox, and a launcher killed with -9 leaves
nothing behind once the next sandbox starts. As root and rootless."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cgroups.delegation import Cli
from pysandbox.sandbox.cgroups.v1 import v1_mounts


@pytest.fixture(params=["root", "rootless"])
def user(request: pytest.FixtureRequest) -> object | None:
    return request.getfixturevalue("delegated_user") if request.param == "rootless" else None


@pytest.fixture
def launched() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def leaves() -> set[Path]:
    mount = v1_mounts()["pids"] / "pysandbox"
    return {p.parent for p in mount.glob("**/psb-*/pids.max")}


def test_limits_reach_the_workload(user: object | None, busybox_rootfs: Path, cli_for: Cli) -> None:
    """Inside, the sandbox sees its own cgroup as / (cgroup namespace); its pids.max is the limit."""
    argv, env = cli_for(user)
    argv += ["run", "--pids-limit", "42", "--memory", "48m", "--rootfs", str(busybox_rootfs), "--",
             "sh", "-c", "cat /proc/self/cgroup"]  # fmt: skip
    proc = subprocess.run(argv, env=env, cwd="/", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(":", 2)[1:] for line in proc.stdout.splitlines())
    assert lines["pids"] == "/" and lines["memory"] == "/"


def test_memory_swap_minus_one_means_no_swap_limit(
    user: object | None, busybox_rootfs: Path, cli_for: Cli
) -> None:
    """Docker's --memory-swap -1, which the cgroup errors themselves suggest; lifting the strict
    profile's swap limit with it is a loosening."""
    argv, env = cli_for(user)
    tail = ["--rootfs", str(busybox_rootfs), "--", "true"]
    proc = subprocess.run([*argv, "run", "--memory", "48m", "--memory-swap", "-1", *tail],
                          env=env, cwd="/", capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([*argv, "run", "--profile", "strict", "--memory-swap", "-1", *tail],
                          env=env, cwd="/", capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 125 and "--memory-swap loosens" in proc.stderr, proc.stderr


def test_killed_launcher_is_cleaned_up_by_the_next_run(
    user: object | None, busybox_rootfs: Path, cli_for: Cli, launched: list[subprocess.Popen[str]]
) -> None:
    argv, env = cli_for(user)
    before = leaves()
    first = subprocess.Popen([*argv, "run", "--pids-limit", "16", "--rootfs", str(busybox_rootfs), "--",
                              "sleep", "60"], env=env, cwd="/", text=True)  # fmt: skip
    launched.append(first)
    deadline = time.monotonic() + 30
    while not (leaves() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphaned = leaves() - before
    assert orphaned, "the sandbox never got a cgroup"
    launcher = _python_of(first.pid)
    os.kill(launcher, signal.SIGKILL)
    first.wait(timeout=30)
    again = [*argv, "run", "--pids-limit", "16", "--rootfs", str(busybox_rootfs), "--", "true"]
    second = subprocess.run(again, env=env, cwd="/", capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    assert not any(p.exists() for p in orphaned)


def _python_of(pid: int) -> int:
    """`setpriv` execs the interpreter, so the Popen pid is the launcher itself either way."""
    with open(f"/proc/{pid}/comm") as fh:
        assert fh.read().strip().startswith("python")
    return pid
