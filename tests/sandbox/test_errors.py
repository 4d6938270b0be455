"""Bad input: a one-line `pysandbox: error:` with cause and fix, exit 125, never a traceback."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_root

from .conftest import Psb, one_line_error


def _fails(psb: Psb, *args: str) -> str:
    done = psb.run(*args)
    assert done.returncode == 125, (args, done.stdout, done.stderr)
    return one_line_error(done.stderr)


def test_bad_rootfs(psb_mode: Psb, world_dir: Path) -> None:
    assert "is not a directory" in _fails(psb_mode, "--rootfs", str(world_dir / "missing"), "--", "/bin/true")
    (world_dir / "file").write_text("x")
    assert "is not a directory" in _fails(psb_mode, "--rootfs", str(world_dir / "file"), "--", "/bin/true")
    # once 'cannot idmap ... --userns=host --allow-unsafe runs it': advice to go unsafe for a path
    # that holds no root at all
    line = _fails(psb_mode, "--rootfs", "/proc/self", "--", "/bin/true")
    assert "root filesystem /proc/self is in the kernel's proc file system" in line and "unsafe" not in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-w", "/bin/busybox"], "working directory /bin/busybox: Not a directory: give -w a directory"),
        (["--read-only", "-w", "/new/dir"],
         "cannot be created: Read-only file system: create it in the root filesystem, or give -w one"),
    ],
)  # fmt: skip
def test_a_workdir_the_sandbox_cannot_enter_is_named_with_the_fix(
    psb_mode: Psb, args: list[str], expected: str
) -> None:
    assert expected in _fails(psb_mode, "--rootfs", str(psb_mode.rootfs), *args, "--", "/bin/true")


@pytest.mark.parametrize("read_only", [["--read-only"], ["--profile", "strict"]])
def test_keep_with_a_read_only_root_is_refused_and_keeps_nothing(psb_mode: Psb, read_only: list[str]) -> None:
    # it used to report an empty directory as "the sandbox's changes"
    line = _fails(psb_mode, *read_only, "--keep", "--rootfs", str(psb_mode.rootfs), "--", "/bin/true")
    assert "which is read-only here (--read-only, or filesystem.read_only_root in profile" in line
    assert "drop --keep" in line
    assert not (psb_mode.home / "sandboxes" / ".kept").exists()


def test_profile_typos_and_unknown_profiles(psb_mode: Psb, profile_file: Any) -> None:
    typo = profile_file("namespces: {user: true}\nfilesystem: {read_only_rot: true}\n")
    line = _fails(psb_mode, "--profile", str(typo), "--", "/bin/true")
    assert "namespces" in line and "read_only_rot" in line
    assert "not found" in _fails(psb_mode, "--profile", "no-such-profile", "--", "/bin/true")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--user", "root", "--", "/bin/true"], "numeric UID"),
        (["--tmpfs", "/x:color=red", "--", "/bin/true"], "bad tmpfs option"),
        (["--tmpfs", "relative", "--", "/bin/true"], "not an absolute path"),
        (["-e", "=value", "--", "/bin/true"], "bad environment variable"),
        (["--name", "bad name!", "--", "/bin/true"], "bad sandbox name"),
        (["--memory", "lots", "--", "/bin/true"], "bad size"),
        (["--network", "bridge", "--", "/bin/true"], "unknown network mode"),
        (["--rootfs"], "needs a value"),
        (["--"], "no command to run"),
        (["--", ""], "the command's program is an empty string: name the program to run"),
        (["--env-file", "/no/such/file", "--", "/bin/true"], "read env file /no/such/file: No such file"),
        (["--env-file", "/", "--", "/bin/true"], "env file / is a directory: give --env-file a UTF-8 file"),
        # digits that str.isdigit() takes and int() refuses
        (["--memory", "\u00b2", "--", "/bin/true"], "bad size"),
        (["--tmpfs", "/t:size=\u00b2", "--", "/bin/true"], "bad size"),
        (["--cpuset-cpus", "\u00b2", "--", "/bin/true"], "--cpuset-cpus"),
        (["--network", "slirp", "--allow-unsafe", "-p", "\u00b2:80", "--", "/bin/true"], "port"),
        # sizes the kernel cannot take, and values that used to be dropped or changed silently
        (["--memory", "99999999999999999999999g", "--", "/bin/true"], "for --memory: it is over 8 EiB"),
        (["--profile", "strict", "--memory", "0", "--", "/bin/true"], "bad value 0 for --memory"),
        (["--memory", "", "--", "/bin/true"], "bad size '' for --memory"),
        (["--memory-swap", "", "--", "/bin/true"], "bad size '' for --memory-swap"),
        (["--memory-swap", "-2", "--", "/bin/true"], "or -1 for no limit"),
        (["--tmpfs", "/t:mode=-1", "--", "/bin/true"], "bad tmpfs mode '-1'"),
        (["--cap-drop", "BOGUS", "--", "/bin/true"], "--cap-drop: unknown capability 'BOGUS'"),
        (["--hostname", "h" * 65, "--", "/bin/true"], "longer than 64 characters"),
        (["--pids-limit", "1", "--", "/bin/true"], "--pids-limit 1 leaves the workload no process"),
        (["--pids-limit", "99999999999999999999", "--", "/bin/true"], "over the kernel's limit of 4194304"),
        (["-v", "/tmp:/dev", "--", "/bin/true"], "mount somewhere other than /, /dev and /proc"),
        (["--tmpfs", "/dev", "--", "/bin/true"], "mount somewhere other than /, /dev and /proc"),
        (["--tmpfs", "/s", "--tmpfs", "/s:size=1m", "--", "/bin/true"], "duplicate mount point /s"),
        (["--tmpfs", "", "--", "/bin/true"], "tmpfs '': no target: give the absolute path to mount at"),
        (["-v", "/tmp:/data", "--tmpfs", "/data", "--", "/bin/true"], "duplicate mount point /data"),
        (["--hostname", "a b", "--", "/bin/true"], "RFC 1123"),
        (["-w", "relative", "--", "/bin/true"], "'relative' must be absolute: write it as /relative"),
        (["--rootfs", "", "--", "/bin/true"], "--rootfs needs a value"),
        (["--name", "", "--", "/bin/true"], "--name needs a value"),
        (["--keep", "--", "/bin/true"], "the host root (neither given) is read-only: give --rootfs DIR or"),
    ],
)
def test_bad_flags(psb_self: Psb, args: list[str], expected: str) -> None:
    assert expected in _fails(psb_self, *args)


def test_a_dangling_symlink_as_volume_source_is_named_as_such(psb_self: Psb, world_dir: Path) -> None:
    link = world_dir / "dangling"
    link.symlink_to(world_dir / "gone")
    line = _fails(psb_self, "-v", f"{link}:/data", "--", "/bin/true")
    assert f"volume source {link} is a symbolic link to {world_dir / 'gone'}, which does not exist" in line


def test_an_env_file_line_with_a_blank_in_its_name_is_refused(psb_self: Psb, world_dir: Path) -> None:
    env_file = world_dir / "shell.env"
    env_file.write_text("A=1\nexport B=2\n")
    env_file.chmod(0o644)
    line = _fails(psb_self, "--env-file", str(env_file), "--", "/bin/true")
    assert f"env file {env_file} line 2: variable 'export B' contains whitespace" in line
    env_file.write_text("A=1\nB\0C=2\n")
    line = _fails(psb_self, "--env-file", str(env_file), "--", "/bin/true")
    assert f"env file {env_file} line 2: it contains a NUL byte: remove it" in line


def test_unsafe_overrides_need_allow_unsafe(psb_mode: Psb) -> None:
    r = str(psb_mode.rootfs)
    line = _fails(psb_mode, "--profile", "strict", "--user", "0", "--rootfs", r, "--", "/bin/true")
    assert "--allow-unsafe" in line and "user.uid" in line
    line = _fails(psb_mode, "--network", "host", "--rootfs", r, "--", "/bin/true")
    assert "--allow-unsafe" in line
    line = _fails(
        psb_mode, "--profile", "strict", "-v", "/etc:/host-etc:ro", "--rootfs", r, "--", "/bin/true"
    )
    assert "/etc" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--security-opt", "seccomp=/nonexistent.json"], "seccomp=/nonexistent.json: No such file"),
        (["--cap-add", "BOGUS"], "--cap-add: unknown capability 'BOGUS'"),
    ],
)
def test_bad_values_are_named_before_allow_unsafe(psb_self: Psb, args: list[str], expected: str) -> None:
    """Asking for --allow-unsafe first would only lead to this error after it is given."""
    line = _fails(psb_self, *args, "--", "/bin/true")
    assert expected in line and "--allow-unsafe" not in line
    assert expected in _fails(psb_self, *args, "--allow-unsafe", "--", "/bin/true")


def test_userns_host_needs_root(psb_mode: Psb) -> None:
    if psb_mode.mode == "root":
        done = psb_mode.run(
            "--userns",
            "host",
            "--allow-unsafe",
            "--rootfs",
            str(psb_mode.rootfs),
            "--",
            "/bin/sh",
            "-c",
            "cat /proc/self/uid_map",
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["0", "0", "4294967295"]
    else:
        assert "needs root" in _fails(psb_mode, "--userns", "host", "--allow-unsafe", "--", "/bin/true")


@requires_root
def test_disabled_user_namespaces_are_named(test_user: Any) -> None:
    """With user.max_user_namespaces=0 the error names the sysctl and how to fix it."""
    libc = ctypes.CDLL(None, use_errno=True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(r)
            os.dup2(w, 2)
            os.setgroups([])
            os.setresgid(test_user.gid, test_user.gid, test_user.gid)
            os.setresuid(test_user.uid, test_user.uid, test_user.uid)
            libc.prctl(4, 1, 0, 0, 0)  # dumpable again, so that we may write our own id maps
            if libc.unshare(0x10000000) != 0:
                os._exit(90)
            for name, text in (("setgroups", "deny"), ("uid_map", f"{test_user.uid} {test_user.uid} 1"),
                               ("gid_map", f"{test_user.gid} {test_user.gid} 1")):  # fmt: skip
                Path(f"/proc/self/{name}").write_text(text)
            Path("/proc/sys/user/max_user_namespaces").write_text("0")
            os.chdir(test_user.home)
            env = {"PATH": "/usr/bin:/bin", "PYSANDBOX_HOME": str(test_user.home / "psbhome"), "HOME": "/"}
            os.execve(test_user.python, [test_user.python, "-m", "pysandbox", "run", "--", "/bin/true"], env)
        finally:
            os._exit(91)
    os.close(w)
    with os.fdopen(r) as fh:
        stderr = fh.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 125, stderr
    line = one_line_error(stderr)
    assert "user namespaces are disabled: sysctl user.max_user_namespaces=0" in line
    assert "sysctl -w user.max_user_namespaces=" in line


def test_unmapped_user_is_refused(psb_mode: Psb) -> None:
    line = _fails(psb_mode, "--user", "70000", "--rootfs", str(psb_mode.rootfs), "--", "/bin/true")
    assert "uid 70000 is not mapped" in line and "/etc/subuid" in line


@requires_root
def test_rootfs_that_cannot_be_idmapped_names_the_opt_in(busybox_rootfs: Path, world_dir: Path) -> None:
    """As root, a rootfs on a filesystem without idmapped-mount support (overlayfs) is refused with
    a message naming --userns=host; with it (and --allow-unsafe) the sandbox runs. The refusal comes
    before PID 1 has its "G" (the launcher idmaps the rootfs): the log has its create and its exit."""
    upper, work, merged = (world_dir / d for d in ("upper", "work", "merged"))
    for d in (upper, work, merged):
        d.mkdir()
    psb = f"{sys.executable} -m pysandbox run"
    script = (
        f"mount -t overlay overlay -o lowerdir={busybox_rootfs},upperdir={upper},workdir={work} {merged} && "
        f"{psb} --name unmappable --rootfs {merged} -- /bin/true; echo status=$?; "
        f"{psb} --userns host --allow-unsafe --rootfs {merged} -- /bin/true; echo status=$?"
    )
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.stdout.split() == ["status=125", "status=0"], (done.stdout, done.stderr)
    line = one_line_error(done.stderr)
    assert "cannot idmap the root filesystem" in line and "--userns=host" in line
    log = subprocess.run([sys.executable, "-m", "pysandbox", "audit", "log", "--format", "json", "--sandbox",
                          "unmappable"], capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    events = json.loads(log.stdout)
    assert [e["type"] for e in events] == ["create", "exit"]
    assert events[1]["status"] == 125
    assert events[1]["reason"].startswith("set-up failed: cannot idmap the root filesystem")
