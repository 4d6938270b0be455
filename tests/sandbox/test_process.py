"""The workload process: exit codes, signals, fds, environment, user, die-with-parent."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import Psb, one_line_error


def _wait_line(proc: subprocess.Popen[str], want: str, timeout: float = 30) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line.strip() == want:
                return
            if not line:
                break
    proc.kill()
    raise AssertionError(f"no {want!r} from the sandbox: {proc.communicate()}")


@pytest.mark.parametrize(
    ("script", "status"),
    [("exit 0", 0), ("exit 3", 3), ("kill -KILL $$", 128 + 9), ("kill -TERM $$", 128 + 15)],
)
def test_exit_status_is_the_workloads(psb_mode: Psb, script: str, status: int) -> None:
    done = psb_mode.run("--rootfs", str(psb_mode.rootfs), "--", "/bin/sh", "-c", script)
    assert done.returncode == status, done.stderr
    assert done.stderr == ""


def test_not_found_and_not_executable(psb_mode: Psb) -> None:
    r = str(psb_mode.rootfs)
    missing = psb_mode.run("--rootfs", r, "--", "no-such-command")
    assert missing.returncode == 127
    assert "no-such-command" in one_line_error(missing.stderr)
    not_exec = psb_mode.run("--rootfs", r, "--", "/etc/passwd")
    assert not_exec.returncode == 126
    assert "Permission denied" in one_line_error(not_exec.stderr)


def test_bad_option_is_125(psb_mode: Psb) -> None:
    done = psb_mode.run("--no-such-option", "--", "/bin/true")
    assert done.returncode == 125
    assert "unknown option" in one_line_error(done.stderr)


def test_signals_are_forwarded_to_the_workload(psb_mode: Psb) -> None:
    script = (
        "trap 'echo got-usr1' USR1; trap 'echo got-hup' HUP; trap 'echo got-int' INT; "
        "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done"
    )
    proc = psb_mode.popen("--rootfs", str(psb_mode.rootfs), "--", "/bin/sh", "-c", script)
    try:
        _wait_line(proc, "ready")
        for sig in (signal.SIGUSR1, signal.SIGHUP, signal.SIGINT):
            proc.send_signal(sig)
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 42, err
    assert out.split() == ["got-usr1", "got-hup", "got-int", "got-term"]


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _sleeps(pids: list[int]) -> int:
    count = 0
    for pid in pids:
        try:
            count += Path(f"/proc/{pid}/comm").read_text().strip() == "sleep"
        except OSError:
            pass
    return count


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sandbox_dies_with_its_launcher(psb_mode: Psb) -> None:
    proc = psb_mode.popen(
        "--name",
        "doomed",
        "--rootfs",
        str(psb_mode.rootfs),
        "--",
        "/bin/sh",
        "-c",
        "echo ready; sleep 1000 & sleep 1000",
    )
    try:
        _wait_line(proc, "ready")
        deadline = time.monotonic() + 10
        while _sleeps(inside := _descendants(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _sleeps(inside) == 2 and len(inside) >= 3, inside  # PID 1 and two sleeps (at least)
        mnt_ns = {os.readlink(f"/proc/{p}/ns/mnt") for p in inside if _alive(p)}
        state = psb_mode.home / "sandboxes" / "doomed"
        assert state.is_dir()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(_alive(p) for p in inside) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in inside if _alive(p)]
    finally:
        proc.kill()
        proc.communicate()
    host_ns = os.readlink("/proc/self/ns/mnt")
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ns = os.readlink(f"/proc/{entry}/ns/mnt")
            except OSError:
                continue
            assert ns == host_ns or ns not in mnt_ns, (
                f"process {entry} still in the sandbox's mount namespace"
            )
    assert str(state) not in Path("/proc/self/mountinfo").read_text()
    # The stale state directory is reclaimed by the next launch, which may reuse the name.
    again = psb_mode.run("--name", "doomed", "--rootfs", str(psb_mode.rootfs), "--", "/bin/true")
    assert again.returncode == 0, again.stderr
    assert not state.exists()


def _audit_log(psb: Psb, *args: str) -> list[dict[str, Any]]:
    python = sys.executable if psb.mode == "root" else psb.user.python
    argv = [python, "-m", "pysandbox", "audit", "log", "--format", "json", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=psb.env(), **psb._who())
    assert done.returncode == 0, done.stderr
    events: list[dict[str, Any]] = json.loads(done.stdout)
    return events


def _exit_events(psb: Psb, name: str) -> list[dict[str, Any]]:
    return [e for e in _audit_log(psb, "--type", "exit") if e["sandbox"]["name"] == name]


def test_a_sandbox_whose_init_is_killed_ends_as_killed(psb_mode: Psb) -> None:
    """kill -9 of PID 1 from the host (an admin, the OOM killer) while the workload runs: 137, as
    `docker run`, and the exit recorded as such; not 125 ("pysandbox failed")."""
    proc = psb_mode.popen("--name", "shot", "--rootfs", str(psb_mode.rootfs), "--", "/bin/sh", "-c",
                          "echo ready; sleep 1000")  # fmt: skip
    try:
        _wait_line(proc, "ready")
        init = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(init) == 1, init
        os.kill(int(init[0]), signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == 128 + 9, err
    assert "error" not in err, err
    [event] = _exit_events(psb_mode, "shot")
    assert (event["status"], event["signal"]) == (137, 9)


def test_a_set_up_failure_records_an_exit_for_its_create(psb_mode: Psb) -> None:
    """Every create in the log is followed by an exit: one whose set-up failed (here PID 1 cannot
    enter its working directory, a file) ends with 125 and the reason, and no start."""
    done = psb_mode.run("--name", "nowhere", "-w", "/bin/busybox", "--rootfs", str(psb_mode.rootfs), "--",
                        "/bin/true")  # fmt: skip
    assert done.returncode == 125, done.stderr
    [event] = _exit_events(psb_mode, "nowhere")
    assert (event["status"], event["signal"]) == (125, None)
    assert event["reason"].startswith("set-up failed: cannot enter the working directory /bin/busybox")
    assert [e["type"] for e in _audit_log(psb_mode, "--sandbox", "nowhere")] == ["create", "exit"]


def test_a_refused_unsafe_flag_is_recorded_as_policy_denied(psb_mode: Psb) -> None:
    """As a refused -v is (DESIGN.md: policy_denied, what and why): the attempt is on the record."""
    loose = ("--name", "loose", "--profile", "strict", "--user", "0")
    done = psb_mode.run(*loose, "--rootfs", str(psb_mode.rootfs), "--", "/bin/true")
    assert done.returncode == 125, done.stderr
    [event] = _audit_log(psb_mode, "--sandbox", "loose")
    assert (event["type"], event["rule"], event["flag"], event["profile"]) == (
        "policy_denied", "unsafe-override", "--user", "strict"
    )
    assert event["message"] == one_line_error(done.stderr).removeprefix("pysandbox: error: ")


def test_init_does_not_show_the_host_command_line(psb_mode: Psb) -> None:
    """PID 1 is a fork of the launcher: /proc/1/cmdline, readable by the workload, showed the host's
    command line (the venv's path, every flag and value) until PID 1 retitled itself."""
    args = ("--rootfs", str(psb_mode.rootfs), "-e", "MARK=host-only", "--", "/bin/sh", "-c")
    done = psb_mode.run(*args, "tr '\\0' ' ' < /proc/1/cmdline")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["pysandbox-init"]


def test_fds_of_the_caller_do_not_leak(psb_mode: Psb, world_dir: Path) -> None:
    secret = world_dir / "open-file"
    secret.write_text("x")
    fd = os.open(secret, os.O_RDONLY)
    os.dup2(fd, 42, inheritable=True)
    os.close(fd)
    try:
        proc = psb_mode.popen(
            "--rootfs", str(psb_mode.rootfs), "--", "/bin/ls", "/proc/self/fd", pass_fds=(42,)
        )
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(42)
    assert proc.returncode == 0, err
    assert sorted(out.split()) == ["0", "1", "2", "3"]  # 3 is ls's own directory fd


def test_environment_is_cleared_then_set(psb_mode: Psb, world_dir: Path) -> None:
    env_file = world_dir / "env"
    env_file.write_text("# comment\nFROM_FILE=file value\n\n  INDENTED=kept as written  \n")
    env_file.chmod(0o644)
    done = psb_mode.run(
        "-e",
        "FOO=bar",
        "-e",
        "FROM_HOST",
        "-e",
        "NOT_IN_HOST",
        "--env-file",
        str(env_file),
        "-w",
        "/work/dir",
        "--rootfs",
        str(psb_mode.user_rootfs),
        "--",
        "/bin/sh",
        "-c",
        "env; pwd",
        env={"FROM_HOST": "host value", "SECRET_TOKEN": "s3cret"},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    env = dict(line.split("=", 1) for line in lines if "=" in line)
    assert env["FOO"] == "bar" and env["FROM_HOST"] == "host value" and env["FROM_FILE"] == "file value"
    assert env["INDENTED"] == "kept as written  "  # as docker: leading blanks go, the value stays
    assert env["PATH"].startswith("/usr/local/sbin") and env["HOME"] == "/root"
    assert "SECRET_TOKEN" not in env and "NOT_IN_HOST" not in env and "PYSANDBOX_HOME" not in env
    assert set(env) <= {"FOO", "FROM_HOST", "FROM_FILE", "INDENTED", "PATH", "HOME", "TERM", "PWD", "SHLVL"}
    assert lines[-1] == "/work/dir"


def test_user_and_group_inside(psb_mode: Psb) -> None:
    done = psb_mode.run(
        "-u",
        "1000:1000",
        "--rootfs",
        str(psb_mode.rootfs),
        "--",
        "/bin/sh",
        "-c",
        "id -u; id -g; id -G; touch /tmp/f && stat -c %u /tmp/f",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1000", "1000", "1000", "1000"]
