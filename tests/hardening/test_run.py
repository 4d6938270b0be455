"""Hardening through `pysandbox run`: what a real sandbox's workload sees, as root and rootless."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cgroups.delegation import delegated_user

from pysandbox.policies import capabilities
from pysandbox.policies.model import DOCKER_DEFAULT_CAPS
from pysandbox.sandbox.seccomp import BUILTIN_DIR

from .childproc import status_fields

__all__ = ["delegated_user"]
DOCKER_MASK = capabilities.mask(DOCKER_DEFAULT_CAPS)
SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


@pytest.fixture(params=["root", "rootless"])
def run(request: pytest.FixtureRequest, busybox_rootfs: Path, world_tmp: Path) -> Any:
    """run(*args) -> CompletedProcess of `pysandbox run --rootfs BUSYBOX ARGS`."""
    if request.param == "rootless":
        user = request.getfixturevalue("delegated_user")
        home = world_tmp / "psbhome-hardening-rootless"
        home.mkdir(exist_ok=True)
        os.chown(home, user.uid, user.gid)

        def as_user(*args: str) -> subprocess.CompletedProcess[str]:
            proc: subprocess.CompletedProcess[str] = user.pysandbox(
                "run", "--rootfs", str(busybox_rootfs), *args, env={"PYSANDBOX_HOME": str(home)}
            )
            return proc

        return as_user

    def as_root(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "pysandbox", "run", "--rootfs", str(busybox_rootfs), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    return as_root


def _status(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert proc.returncode == 0, proc.stderr
    return status_fields(proc.stdout)


def test_strict_workload_status(run: Any) -> None:
    fields = _status(run("--profile", "strict", "--", "cat", "/proc/self/status"))
    assert {k: int(fields[k], 16) for k in SETS} == dict.fromkeys(SETS, 0)
    assert (fields["NoNewPrivs"], fields["Seccomp"]) == ("1", "2")
    assert fields["Uid"].split() == ["65534"] * 4


def test_default_workload_status(run: Any) -> None:
    fields = _status(run("--profile", "default", "--", "cat", "/proc/self/status"))
    want = {"CapInh": 0, "CapPrm": DOCKER_MASK, "CapEff": DOCKER_MASK, "CapBnd": DOCKER_MASK, "CapAmb": 0}
    assert {k: int(fields[k], 16) for k in SETS} == want
    assert (fields["NoNewPrivs"], fields["Seccomp"]) == ("1", "2")


def test_cap_add_and_drop(run: Any) -> None:
    added = _status(run("--cap-add", "NET_ADMIN", "--allow-unsafe", "--", "cat", "/proc/self/status"))
    assert int(added["CapEff"], 16) == DOCKER_MASK | 1 << capabilities.number("NET_ADMIN")
    dropped = _status(run("--cap-drop", "ALL", "--", "cat", "/proc/self/status"))
    assert int(dropped["CapEff"], 16) == int(dropped["CapBnd"], 16) == 0


def test_strict_rlimits(run: Any) -> None:
    proc = run("--profile", "strict", "--", "cat", "/proc/self/limits")
    assert proc.returncode == 0, proc.stderr
    limits = {line[:26].strip(): line[26:].split()[:2] for line in proc.stdout.splitlines()[1:]}
    assert limits["Max open files"] == ["1024", "1024"] and limits["Max core file size"] == ["0", "0"]


def test_custom_seccomp_file(run: Any, world_tmp: Path) -> None:
    """`--security-opt seccomp=FILE` (a file cannot be ranked against the profile's: --allow-unsafe):
    Docker's profile without mkdir; mkdir then fails with EPERM."""
    doc = json.loads((BUILTIN_DIR / "default.json").read_text())
    doc["syscalls"][0]["names"] = [n for n in doc["syscalls"][0]["names"] if n not in ("mkdir", "mkdirat")]
    path = world_tmp / "no-mkdir.json"
    path.write_text(json.dumps(doc))
    path.chmod(0o644)
    proc = run("--security-opt", f"seccomp={path}", "--allow-unsafe", "--", "mkdir", "/tmp/x")
    assert proc.returncode == 1 and "Operation not permitted" in proc.stderr
    assert run("--", "mkdir", "/tmp/x").returncode == 0


def test_unconfined_needs_allow_unsafe_under_strict(run: Any) -> None:
    refused = run("--profile", "strict", "--security-opt", "seccomp=unconfined", "--", "true")
    assert refused.returncode == 125 and refused.stderr.startswith("pysandbox: error:")
    unsafe = ("--profile", "strict", "--security-opt", "seccomp=unconfined", "--allow-unsafe")
    fields = _status(run(*unsafe, "--", "cat", "/proc/self/status"))
    assert fields["Seccomp"] == "0" and fields["NoNewPrivs"] == "1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{broken", "not valid JSON"),
        ('{"defaultAction": "SCMP_ACT_NOPE"}', "unsupported action"),
        # Once dropped in silence (list("mkdir"): five unknown names), so mkdir was allowed.
        ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "mkdir", "action": "SCMP_ACT_ERRNO"}]}',
         'syscalls[0].names: must be a list of strings, not a string: write ["mkdir"]'),
    ],
)  # fmt: skip
def test_bad_seccomp_file_fails_closed(run: Any, world_tmp: Path, content: str, message: str) -> None:
    path = world_tmp / f"bad-{abs(hash(content))}.json"
    path.write_text(content)
    path.chmod(0o644)
    proc = run("--security-opt", f"seccomp={path}", "--allow-unsafe", "--", "true")
    assert proc.returncode == 125
    assert (
        proc.stderr.startswith("pysandbox: error:")
        and message in proc.stderr
        and proc.stderr.count("\n") == 1
    )


def test_lsm_not_available_here(run: Any, world_tmp: Path) -> None:
    path = world_tmp / "selinux.yaml"
    path.write_text("name: selinux\nlsm: {selinux_label: 'system_u:system_r:container_t:s0'}\n")
    path.chmod(0o644)
    proc = run("--profile", str(path), "--", "true")
    assert proc.returncode == 125
    assert "SELinux is not available here" in proc.stderr and proc.stderr.count("\n") == 1
