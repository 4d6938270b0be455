"""`Sandbox(..., fork_server=True)`: PID 1 of every sandbox is forked by a server process, never by
the caller; results are those of a direct launch; the server dies with its caller and stops on
close(); launches that observe seccomp denials fork directly. (Rootless: test_api runs its
unprivileged-user case both ways.)"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_root
from proctools import alive
from psbcli import run_psb

from pysandbox.sandbox import libc
from pysandbox.sandbox.api import Sandbox
from pysandbox.types import SandboxError

from .conftest import taken as _text
from .test_process import _descendants


@requires_root
def test_the_caller_never_forks(busybox_rootfs: Path, out: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, fork_server=True) as box:
        server = box._server.pid
        assert alive(server)

        def refuse(*_: object) -> int:
            raise AssertionError("the caller forked")

        monkeypatch.setattr(libc, "fork_into_namespaces", refuse)  # the server has its own copy
        monkeypatch.setattr(os, "fork", refuse)
        exited = box.run(["/bin/sh", "-c", "echo pid $$ in $(hostname); exit 3"])
        killed = box.run(["/bin/sh", "-c", "kill -KILL $$"])
        missing = box.run(["/no/such/program"])
        monkeypatch.undo()
        assert (exited.status, exited.signal) == (3, None)
        assert _text(out).split() == ["pid", "2", "in", exited.name]
        assert (killed.status, killed.signal) == (137, 9)
        assert missing.status == 127 and missing.error is not None and "No such file" in missing.error
        assert _descendants(server) == []  # every PID 1 was the server's child, and is reaped
    assert not alive(server)  # close() stopped it


@requires_root
def test_denial_observation_launches_directly(busybox_rootfs: Path, out: Any) -> None:
    """strict observes seccomp denials: the listener's socket is made in the caller, so such a
    launch forks there; it still runs and its denial is still reported."""
    with Sandbox("strict", rootfs=busybox_rootfs, stdout=out, stderr=out, fork_server=True) as box:
        result = box.run(["/bin/sh", "-c", "mount -t tmpfs none /tmp 2>/dev/null; echo $?"])
    assert result.status == 0
    assert _text(out).split() == ["1"]
    logged = run_psb("audit", "log", "--type", "seccomp_violation", "--format", "json")
    assert [e["syscall"] for e in json.loads(logged.stdout)] == ["mount"]


HOST = """
import os, sys
from pysandbox.sandbox.api import Sandbox
from pysandbox.types import SandboxError
box = Sandbox("default", rootfs=sys.argv[1], fork_server=True)
print(box._server.pid, flush=True)
box.run(["/bin/sleep", "60"])
"""


@requires_root
def test_the_server_and_its_sandboxes_die_with_the_caller(busybox_rootfs: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYSANDBOX_HOME": str(tmp_path / "home")}
    host = subprocess.Popen([sys.executable, "-c", HOST, str(busybox_rootfs)], stdout=subprocess.PIPE,
                            text=True, env=env)  # fmt: skip
    try:
        assert host.stdout is not None
        server = int(host.stdout.readline())
        deadline = time.monotonic() + 30
        while not _descendants(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        sandbox = _descendants(server)
        assert sandbox, "the server never started the sandbox"
        os.kill(host.pid, signal.SIGKILL)
        host.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (alive(server) or any(alive(p) for p in sandbox)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(server) and not any(alive(p) for p in sandbox)
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()


@requires_root
def test_a_sandbox_dropped_without_close_reaps_its_server(busybox_rootfs: Path, out: Any) -> None:
    box = Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, fork_server=True)
    assert box.run(["/bin/true"]).status == 0
    assert box._server is not None
    server = box._server.pid
    del box
    gc.collect()
    assert not os.path.exists(f"/proc/{server}")  # exited and reaped, not a zombie


LATE = """
import os, sys
from pysandbox.sandbox.api import Sandbox
from pysandbox.types import SandboxError
heap = [bytearray(b"x" * (1 << 20)) for _ in range(200)]  # the caller is large before its Sandbox
if sys.argv[2] == "no-executable":
    sys.executable = ""  # as in a program that embeds Python
box = Sandbox("default", rootfs=sys.argv[1], fork_server=True)
status = box.run(["/bin/true"]).status
with open(f"/proc/{box._server.pid}/status") as fh:
    rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
with open(f"/proc/{box._server.pid}/cmdline", "rb") as fh:
    title = fh.read().split(b"\\0")[0].decode()
print(status, rss // 1024, title)
box.close()
"""


def _late_caller(rootfs: Path, tmp_path: Path, how: str) -> tuple[int, int, str]:
    env = {**os.environ, "PYSANDBOX_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", LATE, str(rootfs), how], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    status, rss_mb, title = done.stdout.split()
    return int(status), int(rss_mb), title


@requires_root
def test_the_server_is_a_fresh_interpreter_whatever_the_caller_holds(
    busybox_rootfs: Path, tmp_path: Path
) -> None:
    """A caller that already holds 200 MB when it makes its Sandbox: a fork of it would carry them
    (and copy their page tables at every launch); the server started anew does not."""
    status, rss_mb, title = _late_caller(busybox_rootfs, tmp_path, "fresh")
    assert status == 0
    assert rss_mb < 64
    assert title == "pysandbox-forkserver"  # not the interpreter's command line with sys.path


@requires_root
def test_a_caller_whose_interpreter_cannot_be_started_again_forks_its_server(
    busybox_rootfs: Path, tmp_path: Path
) -> None:
    status, rss_mb, title = _late_caller(busybox_rootfs, tmp_path, "no-executable")
    assert status == 0
    assert rss_mb > 200  # a fork: the caller's 200 MB are (shared) in it
    assert title == "pysandbox-forkserver"


@requires_root
def test_a_server_that_cannot_start_says_so(
    busybox_rootfs: Path, out: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")  # exits 1 at once, never says "H"
    box = Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, fork_server=True)
    try:
        with pytest.raises(SandboxError, match=r"\(/bin/false\) exited with status 1 before it was ready"):
            box.run(["/bin/true"])
    finally:
        box.close()


@requires_root
def test_a_removed_working_directory_works_as_with_a_direct_launch(
    busybox_rootfs: Path, out: Any, tmp_path: Path
) -> None:
    """The server enters the caller's working directory through an fd, not its path: a removed one
    (a temporary directory, say) still works, as it does for a launch forked by the caller."""
    gone = tmp_path / "gone"
    gone.mkdir()
    before = os.getcwd()
    os.chdir(gone)
    try:
        gone.rmdir()
        with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, fork_server=True) as box:
            served = box.run(["/bin/true"])
        direct = Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out).run(["/bin/true"])
    finally:
        os.chdir(before)
    assert (served.status, direct.status) == (0, 0), _text(out)
