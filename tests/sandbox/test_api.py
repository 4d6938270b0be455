"""The Python API: Sandbox(profile, ...).run(argv) -> Result, in-process and as an unprivileged user."""

from __future__ import annotations

import json
import os
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_root

from pysandbox.record import replace
from pysandbox.sandbox.api import Result, Sandbox
from pysandbox.types import SandboxError

from .conftest import taken as _text
from .test_process import _descendants


@requires_root
def test_many_launches_from_one_process(busybox_rootfs: Path, out: Any) -> None:
    before = set(_descendants(os.getpid()))  # servers other suites' session fixtures keep running
    box = Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, env={"GREETING": "hello"})
    results = [box.run(["/bin/sh", "-c", f"echo $GREETING {i}; exit {i}"]) for i in range(3)]
    assert [r.status for r in results] == [0, 1, 2]
    assert _text(out).split("\n")[:3] == ["hello 0", "hello 1", "hello 2"]
    assert len({r.name for r in results}) == 3 and all(isinstance(r, Result) for r in results)
    assert all(r.signal is None and r.duration > 0 for r in results)
    assert set(_descendants(os.getpid())) <= before  # every process of every sandbox was reaped


@requires_root
def test_results_for_signals_and_exec_failures(busybox_rootfs: Path, out: Any) -> None:
    box = Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out)
    killed = box.run(["/bin/sh", "-c", "kill -KILL $$"])
    assert (killed.status, killed.signal) == (137, 9)
    missing = box.run(["/no/such/program"])
    assert missing.status == 127 and missing.error is not None and "No such file" in missing.error


LAUNCH_MODES = {
    "direct": {},
    "fork-server": {"fork_server": True},
    "prewarm": {"prewarm": 2},  # the server's PID 1s, started by the prewarm thread
    "prewarm-in-run": {"prewarm": 2, "fork_server": False},
}


@requires_root
@pytest.mark.parametrize("mode", LAUNCH_MODES.values(), ids=LAUNCH_MODES.keys())
def test_caller_fds_do_not_leak(busybox_rootfs: Path, out: Any, tmp_path: Path, mode: dict[str, Any]) -> None:
    """Nor any fd of pysandbox's own: a fork server's PID 1 receives its end of the launch channel
    over a socket, which once left it inheritable and so open in the workload."""
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    os.set_inheritable(fd, True)
    try:
        with Sandbox(rootfs=busybox_rootfs, stdout=out, **mode) as box:
            results = [box.run(["/bin/ls", "/proc/self/fd"]) for _ in range(3)]
    finally:
        os.close(fd)
    assert [r.status for r in results] == [0, 0, 0]
    assert sorted(_text(out).split()) == sorted(["0", "1", "2", "3"] * 3)  # 3: ls's own directory fd


@requires_root
def test_options_and_overrides(busybox_rootfs: Path, out: Any, tmp_path: Path) -> None:
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "in.txt").write_text("from host\n")
    box = Sandbox("default", rootfs=str(busybox_rootfs), read_only=True, volumes=[f"{vol}:/data:ro"],
                  tmpfs=["/scratch"], workdir="/scratch", user="1000:1000", hostname="api-box", stdout=out,
                  stderr=out)  # fmt: skip
    result = box.run(
        ["/bin/sh", "-c", "cat /data/in.txt; hostname; id -u; pwd; touch /x 2>/dev/null || echo ro"]
    )
    assert result.status == 0, _text(out)
    assert _text(out).split() == ["from", "host", "api-box", "1000", "/scratch", "ro"]
    assert [o.flag for o in box.overrides] == ["--read-only", "--user", "--user", "--hostname"]
    with pytest.raises(SandboxError, match="--allow-unsafe"):
        Sandbox("strict", network="host")
    loosened = Sandbox("strict", network="host", allow_unsafe=True)
    assert loosened.profile.network.mode == "host" and loosened.overrides[0].unsafe
    with pytest.raises(SandboxError, match=r"'\./work' must be absolute: write it as /work"):
        Sandbox("default", workdir="./work")  # as docker refuses a relative -w
    with pytest.raises(SandboxError, match="absolute path string"):
        Sandbox("default", workdir=5)  # type: ignore[arg-type]
    with pytest.raises(SandboxError, match="contains a NUL byte: remove it"):
        Sandbox("default", workdir="/a\0b")  # it was called 'not an absolute path'


@requires_root
@pytest.mark.parametrize("prewarm", [False, True])
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["/bin/echo", "a\0b"], "contains a NUL byte: remove it"),
        (["/bin/ech\0o"], "contains a NUL byte: remove it"),
        ([""], "the command's program is an empty string: name the program"),
        (["/bin/echo", 3], "not a string: pass the command as strings"),
    ],
)
def test_a_command_execve_cannot_take_is_refused_before_launch(
    busybox_rootfs: Path, out: Any, argv: list[Any], message: str, prewarm: bool
) -> None:
    """Once a ValueError from posix_spawnp in PID 1 ('sandbox setup failed: ValueError: embedded
    null byte'), or, started ahead, an init that ended without a word."""
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=prewarm) as box:
        with pytest.raises(SandboxError) as info:
            box.run(argv)
        assert message in str(info.value)
        assert box.run(["/bin/echo", "next"]).status == 0
    assert _text(out) == "next\n"


@requires_root
def test_pid_1_refuses_a_workdir_that_is_not_a_path(busybox_rootfs: Path, out: Any, tmp_path: Path) -> None:
    """A number reaching PID 1 as the workdir would be an fd to os.stat/os.chdir (fchdir into a
    host directory: runc's CVE-2024-21626): PID 1 fails the set-up, whatever the caller passed."""
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    os.set_inheritable(fd, True)

    class Box(Sandbox):
        def spec(self, argv: Any) -> Any:
            return replace(super().spec(argv), workdir=fd)

    try:
        with pytest.raises(SandboxError, match=f"working directory {fd} is not an absolute path"):
            Box("default", rootfs=busybox_rootfs, stdout=out, stderr=out).run(["/bin/pwd"])
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    "mode", ["fork_server=False", "fork_server=True", "prewarm=True", "prewarm=2, fork_server=True"]
)
def test_api_as_an_unprivileged_user(psb_user: Any, busybox_rootfs: Path, mode: str) -> None:
    test_user = psb_user.user
    script = textwrap.dedent(f"""
        import json, sys, tempfile
        from pysandbox.sandbox.api import Sandbox
        with tempfile.TemporaryFile("w+") as fh:
            rootfs = {str(busybox_rootfs)!r}
            with Sandbox("default", rootfs=rootfs, stdout=fh, {mode}) as box:
                argv = ["/bin/sh", "-c", "id -u; cat /proc/self/uid_map | wc -l; exit 5"]
                results = [box.run(argv) for _ in range(2)]
            fh.seek(0)
            print(json.dumps({{"status": [r.status for r in results], "out": fh.read()}}))
    """)
    done = test_user.run([test_user.python, "-c", script], env={"PYSANDBOX_HOME": str(psb_user.home)})
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == [5, 5]
    assert data["out"].split() == ["0", "2", "0", "2"]  # root inside, the subordinate range mapped too


@requires_root
@pytest.mark.parametrize("mode", ["direct", "fork_server", "prewarm", "from a thread"])
def test_init_does_not_show_the_caller_s_command_line(busybox_rootfs: Path, out: Any, mode: str) -> None:
    """The caller's own arguments (a service's, say) were the workload's to read in /proc/1/cmdline."""
    argv = ["/bin/sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline"]
    with Sandbox(rootfs=busybox_rootfs, stdout=out, fork_server=mode == "fork_server",
                 prewarm=mode == "prewarm") as box:  # fmt: skip
        if mode == "from a thread":  # next to another thread: through the intermediate process A
            thread = threading.Thread(target=box.run, args=(argv,))
            thread.start()
            thread.join(60)
        else:
            box.run(argv)
    assert _text(out).split() == ["pysandbox-init"]


@requires_root
def test_launch_from_a_multithreaded_program(busybox_rootfs: Path, out: Any) -> None:
    """Next to other threads the launcher forks an intermediate process (glibc's fork) instead of
    cloning PID 1 directly; both give the same sandbox."""
    before = set(_descendants(os.getpid()))
    results: list[Result] = []
    box = Sandbox(rootfs=busybox_rootfs, stdout=out, hostname="threaded")
    script = "echo $$ $(hostname); set -- /proc/[0-9]*; echo $#; exit 7"  # the shell's own glob
    thread = threading.Thread(target=lambda: results.append(box.run(["/bin/sh", "-c", script])))
    thread.start()
    thread.join(60)
    assert [r.status for r in results] == [7]
    assert _text(out).split() == ["2", "threaded", "2"]  # init and the shell
    assert set(_descendants(os.getpid())) <= before
