"""Each namespace is the sandbox's own: pid, uts, net, ipc, mount, user, cgroup (root and rootless)."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import Psb

NAMESPACES = ("pid", "uts", "net", "ipc", "mnt", "user", "cgroup")
SCRIPT = (
    "echo pid=$$; echo pids=$(ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '); echo host=$(hostname);"
    "echo init=$(cat /proc/1/comm 2>/dev/null || echo hidden); "
    "echo ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ');"
    + "".join(f"echo ns_{ns}=$(readlink /proc/self/ns/{ns});" for ns in NAMESPACES)
)


def _values(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def test_every_namespace_is_private(psb_mode: Psb) -> None:
    done = psb_mode.run("--hostname", "box1", "--rootfs", str(psb_mode.rootfs), "--", "/bin/sh", "-c", SCRIPT)
    assert done.returncode == 0, done.stderr
    v = _values(done.stdout)
    assert v["pid"] == "2"  # PID 1 is the sandbox's init, the workload comes next
    pids = [int(p) for p in v["pids"].split()]
    assert 1 in pids and max(pids) < 50, pids  # only the sandbox's processes, none of the host's
    assert str(os.getpid()) not in v["pids"].split()
    assert v["host"] == "box1"
    assert v["ifaces"].split() == ["lo"]
    for ns in NAMESPACES:
        assert v[f"ns_{ns}"] != os.readlink(f"/proc/self/ns/{ns}"), ns


def test_default_hostname_is_the_sandbox_name(psb_mode: Psb) -> None:
    done = psb_mode.run("--name", "named-box", "--rootfs", str(psb_mode.rootfs), "--", "/bin/hostname")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "named-box"


@pytest.fixture
def host_shm_segment() -> Iterator[int]:
    """A System V shared memory segment of the host's IPC namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    shmid = libc.shmget(0, 4096, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    assert shmid >= 0, os.strerror(ctypes.get_errno())
    try:
        yield shmid
    finally:
        libc.shmctl(shmid, 0, None)  # IPC_RMID


def test_host_ipc_objects_are_invisible(psb_mode: Psb, host_shm_segment: int) -> None:
    with open("/proc/sysvipc/shm") as fh:
        assert any(line.split()[1] == str(host_shm_segment) for line in fh.read().splitlines()[1:])
    done = psb_mode.run("--rootfs", str(psb_mode.rootfs), "--", "/bin/cat", "/proc/sysvipc/shm")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == []


def test_single_id_mapping_maps_the_requested_user(psb_user: Psb, profile_file: Any) -> None:
    """Without subordinate ids, the one mapped id is the uid the workload runs as."""
    single = profile_file("idmap: {mode: single}\naudit: 'off'\n")
    script = "id -u; cat /proc/self/uid_map /proc/self/setgroups"
    rootfs = str(psb_user.rootfs)
    done = psb_user.run(
        "--profile", str(single), "-u", "1000", "--rootfs", rootfs, "--", "/bin/sh", "-c", script
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1000", "1000", str(psb_user.user.uid), "1", "deny"]


def test_sys_can_be_absent(psb_mode: Psb, profile_file: Any) -> None:
    no_sys = profile_file("filesystem: {sys: none}\naudit: 'off'\n")
    script = "ls -A /sys | wc -l; cut -d' ' -f5 /proc/self/mountinfo | grep -c '^/sys'"
    done = psb_mode.run(
        "--profile", str(no_sys), "--rootfs", str(psb_mode.rootfs), "--", "/bin/sh", "-c", script
    )
    assert done.stdout.split() == ["0", "0"], done.stderr
