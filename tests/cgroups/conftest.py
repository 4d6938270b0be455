"""The cgroup backends under test: v1 for real on this machine (as root), v2 on `FakeV2Fs`.

`Harness` hides only what differs between the two: how to read a limit back in one unit, and
how to make the kernel report an OOM kill or a refused fork (a real workload on v1; on the fake
tree, the counter the kernel would bump)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_root

from cgroups.delegation import cli_for, delegated_user  # noqa: F401 - fixtures
from cgroups.fakefs import FakeV2Fs
from pysandbox.sandbox.cgroups.base import Cgroup
from pysandbox.sandbox.cgroups.detect import Backend
from pysandbox.sandbox.cgroups.v1 import SUBTREE, V1Backend, V1Cgroup, v1_mounts
from pysandbox.sandbox.cgroups.v2 import V2Backend

V1_ROOT = Path("/sys/fs/cgroup")
FORKS = "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait"


def spawn(code: str = "pass") -> subprocess.Popen[str]:
    """A Python child that waits for a line on stdin before running `code` (so it can be moved first)."""
    argv = [sys.executable, "-c", f"import sys\nsys.stdin.readline()\n{code}"]
    pipe = subprocess.PIPE
    return subprocess.Popen(argv, stdin=pipe, stdout=pipe, stderr=pipe, text=True)


def go(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    return proc.wait(timeout=timeout)


class Harness:
    kind = ""
    backend: Backend

    def read(self, cg: Cgroup) -> dict[str, Any]:
        raise NotImplementedError

    def oom(self, cg: Cgroup) -> None:
        raise NotImplementedError

    def fork_refused(self, cg: Cgroup) -> None:
        raise NotImplementedError

    def burn_cpu(self, cg: Cgroup) -> None:
        raise NotImplementedError

    def backend_code(self) -> str:
        """Python building the same backend in another process (for the kill -9 launcher test)."""
        raise NotImplementedError

    def leaf_dirs(self, name: str) -> list[Path]:
        return [Path(base, name) for base in self.backend.bases() if Path(base, name).exists()]


class V1Harness(Harness):
    kind = "v1"

    def __init__(self) -> None:
        self.backend = V1Backend()

    def read(self, cg: Cgroup) -> dict[str, Any]:
        assert isinstance(cg, V1Cgroup)
        d = {controller: Path(path) for controller, path in cg.by_controller.items()}
        memory = int((d["memory"] / "memory.limit_in_bytes").read_text())
        memsw = int((d["memory"] / "memory.memsw.limit_in_bytes").read_text())
        unlimited = memsw >= 1 << 62
        out: dict[str, Any] = {"memory": memory, "swap": None if unlimited else memsw - memory}
        if "cpu" in d:
            quota = int((d["cpu"] / "cpu.cfs_quota_us").read_text())
            out["cpu"] = (quota, int((d["cpu"] / "cpu.cfs_period_us").read_text()))
        if "cpuset" in d:
            out["cpuset"] = (d["cpuset"] / "cpuset.cpus").read_text().strip()
        if "pids" in d:
            out["pids"] = (d["pids"] / "pids.max").read_text().strip()
        return out

    def oom(self, cg: Cgroup) -> None:
        proc = spawn("b = bytearray(256 << 20)")
        cg.add(proc.pid)
        assert go(proc) == -9

    def fork_refused(self, cg: Cgroup) -> None:
        # The child and the shell's forks count against pids.max (set low by the test).
        proc = spawn(f"import subprocess\nsubprocess.run(['sh', '-c', {FORKS!r}])")
        cg.add(proc.pid)
        go(proc)

    def burn_cpu(self, cg: Cgroup) -> None:
        proc = spawn("import time\nt = time.process_time()\nwhile time.process_time() - t < 0.2: pass")
        cg.add(proc.pid)
        assert go(proc) == 0

    def backend_code(self) -> str:
        return "from pysandbox.sandbox.cgroups.v1 import V1Backend\nbackend = V1Backend()"


class V2Harness(Harness):
    kind = "v2"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fs = FakeV2Fs.make_root(root)
        base = root / "delegated"
        self.fs.mkdir(base)
        self.fs.write(root / "cgroup.subtree_control", "+cpuset +cpu +io +memory +pids")
        self.backend = V2Backend(base, self.fs)

    def read(self, cg: Cgroup) -> dict[str, Any]:
        p = Path(cg.path)
        memory = (p / "memory.max").read_text().strip()
        swap = (p / "memory.swap.max").read_text().strip()
        out: dict[str, Any] = {"memory": int(memory), "swap": None if swap == "max" else int(swap)}
        if (p / "cpu.max").exists():
            quota, period = (p / "cpu.max").read_text().split()
            out["cpu"] = (int(quota), int(period))
        if (p / "cpuset.cpus").exists():
            out["cpuset"] = (p / "cpuset.cpus").read_text().strip()
        if (p / "pids.max").exists():
            out["pids"] = (p / "pids.max").read_text().strip()
        return out

    def oom(self, cg: Cgroup) -> None:
        self.fs.event(cg.path, "memory.events", "oom_kill")

    def fork_refused(self, cg: Cgroup) -> None:
        self.fs.event(cg.path, "pids.events", "max", 3)

    def burn_cpu(self, cg: Cgroup) -> None:
        self.fs.set_value(Path(cg.path) / "cpu.stat", "usage_usec 200000\nuser_usec 200000\nsystem_usec 0\n")

    def backend_code(self) -> str:
        tests, base = str(Path(__file__).parents[1]), str(self.backend.bases()[0])
        return (
            f"import sys\nsys.path.insert(0, {tests!r})\nfrom pathlib import Path\n"
            "from cgroups.fakefs import FakeV2Fs\nfrom pysandbox.sandbox.cgroups.v2 import V2Backend\n"
            f"backend = V2Backend(Path({base!r}), FakeV2Fs(Path({str(self.root)!r})))"
        )


@pytest.fixture(scope="session", autouse=True)
def _remove_v1_subtrees() -> Iterator[None]:
    """Remove `<hierarchy>/pysandbox` at the end when this session created it and left it empty."""
    existed = {m for m in v1_mounts().values() if (m / SUBTREE).exists()}
    yield
    for mount in set(v1_mounts().values()) - existed:
        try:
            os.rmdir(mount / SUBTREE)
        except OSError:
            pass


@pytest.fixture(params=[pytest.param("v1", marks=requires_root), "v2"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "v1":
        h: Harness = V1Harness()
    else:
        h = V2Harness(tmp_path / "cgroup2")
    yield h
    if isinstance(h, V2Harness):
        shutil.rmtree(h.root, ignore_errors=True)
