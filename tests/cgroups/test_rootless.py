"""v1 rootless: the unprivileged test user under the subtree `pysandbox setup --delegate` made."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cgroups.delegation import run_setup, sandbox_home
from pysandbox.sandbox.cgroups.v1 import v1_mounts

pytestmark = pytest.mark.rootless

WORKLOAD = r"""
import json, os, subprocess, sys
from pysandbox.policies.model import Limits
from pysandbox.sandbox import cgroups

MiB = 1 << 20
out = {}
def run_inside(limits, code):
    cg = cgroups.create(f"rootless-{os.getpid()}", limits)
    try:
        proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()\n" + code],
                                stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
        cg.add(proc.pid)
        dirs = [str(d) for d in cg.dirs]
        proc.communicate(b"\n", timeout=60)
        return proc.returncode, cg.stats(), dirs
    finally:
        cg.remove()

status, stats, dirs = run_inside(Limits(memory=32 * MiB, memory_swap=32 * MiB), "b = bytearray(256 << 20)")
out["oom"] = {"status": status, "oom_kills": stats.oom_kills, "dirs": dirs}
bomb = "import subprocess\nsubprocess.run(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait'])"
status, stats, dirs = run_inside(Limits(pids=4), bomb)
out["pids"] = {"hits": stats.pids_limit_hits}
out["left"] = [d for d in dirs if os.path.exists(d)]
print(json.dumps(out))
"""
NOBODY_CREATES = """
from pysandbox.policies.model import Limits
from pysandbox.sandbox import cgroups
from pysandbox.types import SandboxError
try:
    cgroups.create("nobody", Limits(memory=64 << 20))
except SandboxError as e:
    print(e)
"""
HOLDER = """
import os, sys
from pysandbox.policies.model import Limits
from pysandbox.sandbox import cgroups
cg = cgroups.create(f"held-{os.getpid()}", Limits(pids=8))
print(cg.path, flush=True)
sys.stdin.readline()
cg.remove()
"""


def test_limits_enforced_rootless(delegated_user: Any) -> None:
    proc = delegated_user.run([delegated_user.python, "-c", WORKLOAD], timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["oom"]["status"] == -9 and out["oom"]["oom_kills"] == 1
    assert all(f"/pysandbox/user-{delegated_user.uid}/psb-rootless-" in d for d in out["oom"]["dirs"])
    assert out["pids"]["hits"] >= 1
    assert out["left"] == []


def test_delegated_subtree_is_owned_but_its_limits_are_not(delegated_user: Any) -> None:
    """The user manages sandboxes below user-<uid>, but cannot lift the ceiling root may put on it."""
    for mount in set(v1_mounts().values()):
        sub = mount / "pysandbox" / f"user-{delegated_user.uid}"
        if not sub.exists():
            continue
        assert sub.stat().st_uid == delegated_user.uid
        assert (sub / "cgroup.procs").stat().st_uid == 0
    pids_max = v1_mounts()["pids"] / "pysandbox" / f"user-{delegated_user.uid}" / "pids.max"
    proc = delegated_user.run(["sh", "-c", f"echo 100000 > {pids_max}"])
    assert proc.returncode != 0 and "Permission denied" in proc.stderr


def test_no_delegation_fails_closed_with_the_fix(test_user: Any) -> None:
    """`nobody` was never delegated anything: limits cannot be enforced, and it is told how to fix it."""
    argv = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        test_user.python,
        "-c",
        NOBODY_CREATES,
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("cannot enforce resource limits: ")
    assert "run `sudo pysandbox setup --delegate nobody`" in proc.stdout


def test_no_delegation_fails_closed_unless_allow_unsafe(test_user: Any, busybox_rootfs: Path) -> None:
    """`run --memory` as `nobody`, who has no cgroup of its own: exit 125 with the fixes; with
    --allow-unsafe it runs without the limit, says so in one line and records a policy_override."""
    with sandbox_home(SimpleNamespace(uid=65534, gid=65534)) as home:
        env = {"PATH": os.environ["PATH"], "PYSANDBOX_HOME": str(home), "LANG": "C.UTF-8"}

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", test_user.python, "-m",
                    "pysandbox", *args]  # fmt: skip
            return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, cwd="/")

        limit = ["--memory", "100m", "--rootfs", str(busybox_rootfs), "--", "true"]
        proc = run("run", *limit)
        assert proc.returncode == 125 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("pysandbox: error: cannot enforce resource limits: ")
        assert proc.stderr.endswith(
            ": run `sudo pysandbox setup --delegate nobody`, or run without --memory (limits.memory), "
            "or pass --allow-unsafe to go without (audited)\n"
        )
        proc = run("run", "--allow-unsafe", *limit)
        assert proc.returncode == 0, proc.stderr
        warnings = [line for line in proc.stderr.splitlines() if line.startswith("pysandbox: warning: ")]
        assert len(warnings) == 1 and warnings[0].startswith("pysandbox: warning: --memory (limits.memory): ")
        assert warnings[0].endswith(": not enforced (allowed by --allow-unsafe)")
        log = run("audit", "log", "--type", "policy_override", "--format", "json")
        assert log.returncode == 0, log.stderr
        (event,) = json.loads(log.stdout)
        assert event["rule"] == "limit-unenforced"
        assert event["message"].startswith("--memory (limits.memory): ")


def test_each_unenforced_limit_names_its_own_hierarchy(test_user: Any, busybox_rootfs: Path) -> None:
    """Under cgroup v1 each controller has a hierarchy of its own: the reason given for each limit
    left out is that controller's, not the first one's."""
    with sandbox_home(SimpleNamespace(uid=65534, gid=65534)) as home:
        env = {"PATH": os.environ["PATH"], "PYSANDBOX_HOME": str(home), "LANG": "C.UTF-8"}
        limits = ["--memory", "100m", "--pids-limit", "50", "--rootfs", str(busybox_rootfs)]
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", test_user.python, "-m",
                "pysandbox", "run", *limits]  # fmt: skip

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            full = [*argv, *args]
            return subprocess.run(full, env=env, capture_output=True, text=True, timeout=60, cwd="/")

        mounts = v1_mounts()
        refused = run("--", "true")
        assert refused.returncode == 125, refused.stderr
        for controller in ("memory", "pids"):
            assert f"{mounts[controller]}/" in refused.stderr, refused.stderr
        allowed = run("--allow-unsafe", "--", "true")
        assert allowed.returncode == 0, allowed.stderr
        prefix = "pysandbox: warning: "
        warnings = {
            line.removeprefix(prefix).split(" (", 1)[0]: line
            for line in allowed.stderr.splitlines()
            if line.startswith(prefix)
        }
        assert f"{mounts['memory']}/" in warnings["--memory"], warnings
        assert f"{mounts['pids']}/" in warnings["--pids-limit"], warnings


def test_setup_needs_root(test_user: Any) -> None:
    proc = test_user.pysandbox("setup", "--delegate", test_user.name)
    assert proc.returncode == 2
    assert proc.stderr.startswith("pysandbox: error: setup --delegate changes /sys/fs/cgroup")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("user", "message"), [("no-such-user-x", "no such user"), ("root", "root needs no")])
def test_setup_bad_user(user: str, message: str) -> None:
    proc = run_setup(user)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_undo_refuses_while_a_sandbox_runs(delegated_user: Any) -> None:
    """--undo with a live sandbox below: refused, nothing removed; the sandbox's own cleanup still works."""
    code = HOLDER
    holder = subprocess.Popen(
        [
            "setpriv",
            f"--reuid={delegated_user.uid}",
            f"--regid={delegated_user.gid}",
            "--clear-groups",
            delegated_user.python,
            "-c",
            code,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        leaf = Path(holder.stdout.readline().strip())
        assert leaf.exists()
        proc = run_setup(delegated_user.name, "--undo")
        assert proc.returncode == 125 and "still holds running sandboxes" in proc.stderr
        assert leaf.exists()
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(timeout=30) == 0
        assert not leaf.exists()
    finally:
        holder.kill()
        holder.wait()


def test_setup_and_undo_roundtrip() -> None:
    """For a user nobody else delegates: everything setup makes, --undo removes."""
    user = "nobody"
    uid = 65534
    before = sorted(str(p) for p in Path("/sys/fs/cgroup").glob("*/pysandbox/user-*"))
    tun_before = _tun_acl()
    done = run_setup(user)
    assert done.returncode == 0, done.stderr
    made = [Path(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("delegated ")]
    try:
        assert made and all(p.name == f"user-{uid}" and p.stat().st_uid == uid for p in made)
        assert {p.parent.parent for p in made} == set(v1_mounts().values()) - _without_weights()
    finally:
        undone = run_setup(user, "--undo")
    assert undone.returncode == 0, undone.stderr
    assert not any(p.exists() for p in made)
    assert sorted(str(p) for p in Path("/sys/fs/cgroup").glob("*/pysandbox/user-*")) == before
    assert _tun_acl() == tun_before


def _tun_acl() -> bytes | None:
    try:
        return os.getxattr("/dev/net/tun", "system.posix_acl_access")
    except OSError:
        return None


def _without_weights() -> set[Path]:
    blkio = v1_mounts().get("blkio")
    if blkio and not any((blkio / f).exists() for f in ("blkio.weight", "blkio.bfq.weight")):
        return {blkio}
    return set()
