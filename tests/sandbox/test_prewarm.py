"""`Sandbox(..., prewarm=N)`: the next sandboxes are started ahead (namespaces, root, confined PID 1)
and get their command with "S". Every run still gets a fresh sandbox, results and audit records
are those of a direct launch, a sandbox that never ran records nothing and leaves nothing behind
(close(), or the caller's death); with the fork server the caller never forks. (Rootless: test_api
runs its unprivileged-user case this way.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_root
from proctools import alive
from psbcli import run_psb

from pysandbox import paths
from pysandbox.sandbox import libc
from pysandbox.sandbox.api import Sandbox
from pysandbox.sandbox.init import ARGV_MAX
from pysandbox.sandbox.session import Session
from pysandbox.types import SandboxError

from .conftest import taken as _text
from .test_process import _descendants


def _leases() -> list[str]:
    state = paths.location(paths.STATE)
    return sorted(n for n in os.listdir(state) if not n.startswith(".")) if os.path.isdir(state) else []


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def _settle(box: Sandbox) -> None:
    """Wait for the prewarm thread (if any) to have started the next sandboxes."""
    if box._prewarmer is not None:
        box._prewarmer.wait_idle()


# fork_server=None, the default with prewarm: the server forks them and the prewarm thread starts
# them after each run; False: each run starts the next one itself, in the caller's thread
MODES = pytest.mark.parametrize("fork_server", [None, False], ids=["prewarm-thread", "in-run"])


def _events(kind: str) -> list[dict[str, Any]]:
    done = run_psb("audit", "log", "--type", kind, "--format", "json")
    assert done.returncode == 0, done.stderr
    events: list[dict[str, Any]] = json.loads(done.stdout)
    return events


@requires_root
@MODES
def test_each_run_gets_a_fresh_sandbox(busybox_rootfs: Path, out: Any, fork_server: bool | None) -> None:
    before = set(_descendants(os.getpid()))
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=True,
                 fork_server=fork_server) as box:  # fmt: skip
        assert set(_descendants(os.getpid())) - before  # the first sandbox, waiting for its command
        first = box.run(["/bin/sh", "-c", "echo $$ $(hostname); touch /marker /tmp/marker; exit 3"])
        second = box.run(["/bin/sh", "-c", "echo $$ $(hostname); ls /marker /tmp/marker 2>&1 | wc -l"])
        killed = box.run(["/bin/sh", "-c", "kill -KILL $$"])
        missing = box.run(["/no/such/program"])
        _settle(box)
        assert len(_leases()) == 1  # only the one waiting for the next run
    assert (first.status, second.status, killed.status, killed.signal) == (3, 0, 137, 9)
    assert missing.status == 127 and missing.error is not None and "No such file" in missing.error
    assert len({first.name, second.name, killed.name, missing.name}) == 4
    assert _text(out).split() == ["2", first.name, "2", second.name, "2"]  # the markers are gone
    assert set(_descendants(os.getpid())) <= before  # close() tore the waiting one down
    assert _leases() == []


@requires_root
def test_the_command_travels_with_the_start(busybox_rootfs: Path, out: Any) -> None:
    """Spaces, empty and non-ASCII arguments arrive intact; a command too long to travel with "S"
    runs in a sandbox of its own instead; one that cannot be given at all fails as without prewarm."""
    args = ["x", "a b", "", "é", "--"]
    long = ["y" * 30000] * (ARGV_MAX // 30000 + 1)  # execve takes at most 128 KiB per argument
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=True) as box:
        exact = box.run(["/bin/sh", "-c", 'printf "%s|" "$@"; echo', *args])
        too_long = box.run(["/bin/sh", "-c", "echo $# ${#1}", "sh", *long])
        after = box.run(["/bin/sh", "-c", "echo after"])
        with pytest.raises(SandboxError, match="no command to run"):
            box.run([])
    assert (exact.status, too_long.status, after.status) == (0, 0, 0)
    assert _text(out).splitlines() == ["a b||é|--|", f"{len(long)} 30000", "after"]


@requires_root
def test_only_sandboxes_that_ran_are_recorded(busybox_rootfs: Path, out: Any) -> None:
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=True) as box:
        results = [box.run(["/bin/sh", "-c", f"exit {n}"]) for n in (1, 2)]
    ids = [r.sandbox_id for r in results]
    for kind in ("create", "start", "exit"):
        events = _events(kind)
        assert [e["sandbox"]["id"] for e in events] == ids, kind
    assert [e["command"] for e in _events("start")] == [
        ["/bin/sh", "-c", "exit 1"],
        ["/bin/sh", "-c", "exit 2"],
    ]
    assert [e["status"] for e in _events("exit")] == [1, 2]
    assert run_psb("audit", "verify").returncode == 0


@requires_root
def test_limits_and_confinement_hold_for_a_sandbox_started_ahead(busybox_rootfs: Path, out: Any) -> None:
    """strict: a cgroup with a pids limit the sandbox sees as its own /, its non-root user, no
    capabilities, a seccomp filter, all in place before the command arrives."""
    script = (
        "cat /proc/self/cgroup | grep pids; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null; id -u; "
        "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status | tr -s '\\t' ' '"
    )
    with Sandbox("strict", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=True) as box:
        results = [box.run(["/bin/sh", "-c", script]) for _ in range(2)]
    assert [r.status for r in results] == [0, 0]
    lines = _text(out).splitlines()
    assert lines.count("CapEff: 0000000000000000") == 2 and lines.count("NoNewPrivs: 1") == 2
    assert lines.count("Seccomp: 2") == 2 and lines.count("65534") == 2
    assert sum(line.endswith(":pids:/") for line in lines) == 2


@requires_root
def test_a_set_up_failure_is_reported_by_the_run(busybox_rootfs: Path, out: Any) -> None:
    """A working directory that cannot be made: the sandbox started ahead fails, and the run says
    so as a direct launch would (exit 125, the same reason)."""
    kwargs: dict[str, Any] = {"rootfs": busybox_rootfs, "read_only": True, "workdir": "/no/such/dir"}
    with pytest.raises(SandboxError) as direct:
        Sandbox("default", stdout=out, stderr=out, **kwargs).run(["/bin/true"])
    with (
        Sandbox("default", stdout=out, stderr=out, prewarm=True, **kwargs) as box,
        pytest.raises(SandboxError) as ahead,
    ):
        box.run(["/bin/true"])
    assert str(ahead.value) == str(direct.value) and "/no/such/dir" in str(ahead.value)
    assert _leases() == []


@requires_root
@MODES
def test_two_ahead(busybox_rootfs: Path, out: Any, fork_server: bool | None) -> None:
    """prewarm=2: two sandboxes wait; runs take them oldest first, and close() tears both down."""
    before = set(_descendants(os.getpid()))
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=2,
                 fork_server=fork_server) as box:  # fmt: skip
        assert len(_leases()) == 2
        results = [box.run(["/bin/sh", "-c", f"hostname; exit {n}"]) for n in range(3)]
        _settle(box)
        assert len(_leases()) == 2
    assert [r.status for r in results] == [0, 1, 2]
    assert _text(out).split() == [r.name for r in results]
    assert set(_descendants(os.getpid())) <= before
    assert _leases() == []


@requires_root
def test_with_the_fork_server_the_caller_never_forks(
    busybox_rootfs: Path, out: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prewarm and fork_server: the server forks the sandboxes started ahead as it forks others."""
    with Sandbox(
        "default", rootfs=busybox_rootfs, stdout=out, stderr=out, fork_server=True, prewarm=2
    ) as box:

        def refuse(*_: object) -> int:
            raise AssertionError("the caller forked")

        monkeypatch.setattr(libc, "fork_into_namespaces", refuse)  # the server has its own copy
        monkeypatch.setattr(os, "fork", refuse)
        results = [box.run(["/bin/sh", "-c", f"echo $$ $(hostname); exit {n}"]) for n in range(3)]
        monkeypatch.undo()
        _settle(box)
        server = box._server.pid
        assert len(_descendants(server)) >= 2  # the two waiting
    assert [r.status for r in results] == [0, 1, 2]
    assert _text(out).split() == [w for r in results for w in ("2", r.name)]
    assert not alive(server) and _leases() == []


@requires_root
@pytest.mark.parametrize("prewarm", [2, 1])
def test_the_prewarm_thread_starts_the_next_ones(
    busybox_rootfs: Path, out: Any, monkeypatch: pytest.MonkeyPatch, prewarm: int
) -> None:
    """With the fork server (the default with prewarm), the sandboxes after the first ones are
    started by the Sandbox's prewarm thread and run by the main thread; none is started by a run.
    The thread starts the next one once the run that made room has returned, or, when that run
    took the last one ready (prewarm=1), while its workload runs."""
    starts: list[tuple[bool, int, float]] = []  # (ahead, thread, when)
    start = Session.start

    def timed(self: Session, ahead: bool = False) -> None:
        starts.append((ahead, threading.get_ident(), time.monotonic()))
        start(self, ahead)

    monkeypatch.setattr(Session, "start", timed)
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=prewarm) as box:
        assert box._server is not None and box._prewarmer is not None
        thread = box._prewarmer.ident
        returned = []
        for n in range(3):
            _settle(box)
            assert len(box._ahead) == prewarm and box._ahead[0].lease is not None
            oldest = box._ahead[0].lease.sandbox_id
            result = box.run(["/bin/sh", "-c", f"sleep 0.3; exit {n}"])
            returned.append(time.monotonic())
            assert result.status == n and result.sandbox_id == oldest
        _settle(box)
    first, later = starts[:prewarm], starts[prewarm:]
    assert first == [(True, threading.get_ident(), when) for _, _, when in first]  # by the Sandbox
    assert len(later) == 3  # one per run, none by a run
    assert all(ahead and who == thread for ahead, who, _ in later)
    if prewarm == 2:
        assert all(when >= done for (_, _, when), done in zip(later, returned, strict=True))
    else:  # begun while the workload (0.3 s) ran
        assert all(when < done - 0.1 for (_, _, when), done in zip(later, returned, strict=True))
    assert _leases() == []


@requires_root
def test_denials_are_observed_in_sandboxes_the_prewarm_thread_started(busybox_rootfs: Path, out: Any) -> None:
    """strict observes seccomp denials, so its sandboxes are forked in the caller (by the prewarm
    thread here, next to the main thread: through an intermediate process); each run's denial is
    still recorded under its own sandbox."""
    script = "mount -t tmpfs none /tmp 2>/dev/null; echo $?"
    with Sandbox("strict", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=2) as box:
        results = [box.run(["/bin/sh", "-c", script]) for _ in range(3)]
        _settle(box)
        assert box._prewarmer is not None and box._ahead[-1].thread == box._prewarmer.ident
    assert [r.status for r in results] == [0, 0, 0] and _text(out).split() == ["1", "1", "1"]
    denials = _events("seccomp_violation")
    assert [(e["syscall"], e["sandbox"]["id"]) for e in denials] == [("mount", r.sandbox_id) for r in results]


@requires_root
def test_a_run_waits_for_the_sandbox_on_its_way(
    busybox_rootfs: Path, out: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that finds none ready while the prewarm thread is starting one takes that one when
    it is ready, rather than start another beside it."""
    starts: list[bool] = []
    start = Session.start

    def slow(self: Session, ahead: bool = False) -> None:
        starts.append(ahead)
        if ahead and len(starts) > 1:
            time.sleep(0.5)
        start(self, ahead)

    monkeypatch.setattr(Session, "start", slow)
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=1) as box:
        first = box.run(["/bin/true"])
        began = time.monotonic()
        second = box.run(["/bin/sh", "-c", "exit 5"])
        waited = time.monotonic() - began
    assert (first.status, second.status) == (0, 5)
    assert starts[:2] == [True, True]  # the Sandbox's, then the prewarm thread's after the first run
    assert False not in starts  # no run started one of its own
    assert waited >= 0.3  # it waited for the slow one rather than starting its own
    assert _leases() == []


@requires_root
def test_close_stops_the_prewarm_thread_and_closes_what_it_held(busybox_rootfs: Path, out: Any) -> None:
    """close() ends the prewarm thread before the waiting sandboxes are torn down, and the locks of
    the sandboxes that ran (closed by the thread, after their runs) are all closed."""
    before = set(_descendants(os.getpid()))
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=2) as box:
        assert box._prewarmer is not None
        worker = box._prewarmer._thread
        assert [box.run(["/bin/true"]).status for _ in range(4)] == [0, 0, 0, 0]
    assert not worker.is_alive()
    assert set(_descendants(os.getpid())) <= before and _leases() == []
    state = paths.location(paths.STATE)
    held = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd") if _is_link(fd)]
    assert not [target for target in held if target.startswith(state)]


def _is_link(fd: str) -> bool:
    try:
        os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return False
    return True


@requires_root
def test_a_sandbox_dropped_without_close_ends_its_prewarm_thread(busybox_rootfs: Path, out: Any) -> None:
    """The thread holds its Sandbox weakly: a Sandbox that is dropped is collected and its thread
    ends (its server with it: the waiting sandboxes die, and are torn down here)."""
    import gc

    from pysandbox.sandbox import api

    box = Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=1)
    assert box.run(["/bin/true"]).status == 0
    _settle(box)
    assert box._prewarmer is not None
    worker, waiting = box._prewarmer._thread, list(box._ahead)
    del box
    gc.collect()
    worker.join(timeout=30)
    assert not worker.is_alive()
    for session in waiting:
        api._AHEAD.discard(session)
        session.abort()
    assert _leases() == []


@requires_root
def test_a_fork_server_that_died_is_replaced_with_its_waiting_sandboxes(
    busybox_rootfs: Path, out: Any
) -> None:
    """kill -9 of the fork server takes the sandboxes waiting in it along (PR_SET_PDEATHSIG): the
    next runs start sandboxes of their own through a new server, even while those still hold
    their SIGKILL undelivered, and the prewarm thread fills up again."""
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=2) as box:
        assert box.run(["/bin/true"]).status == 0
        _settle(box)
        assert box._server is not None
        old = box._server.pid
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _state(old) not in ("Z", "") and time.monotonic() < deadline:
            time.sleep(0.001)  # its death signals reach the waiting PID 1s before it is a zombie
        results = [box.run(["/bin/sh", "-c", f"exit {n}"]) for n in range(3)]
        _settle(box)
        assert box._server is not None and box._server.pid != old and box._server.alive()
        assert len(box._ahead) == 2 and all(alive(s.runner.pid_a) for s in box._ahead if s.runner)
    assert [r.status for r in results] == [0, 1, 2]
    assert [e["sandbox"]["id"] for e in _events("exit")][1:] == [r.sandbox_id for r in results]
    assert _leases() == []


@requires_root
def test_keep_keeps_only_what_ran(busybox_rootfs: Path, out: Any) -> None:
    """keep=True: each run's upper directory is kept; the waiting sandbox's is removed at close."""
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, keep=True, prewarm=True) as box:
        result = box.run(["/bin/sh", "-c", "echo kept > /marker"])
    kept = Path(paths.location(paths.STATE), ".kept")
    assert result.kept is not None and Path(result.kept, "marker").read_text() == "kept\n"
    assert [p.name for p in kept.iterdir()] == [Path(result.kept).parent.name]


@requires_root
@pytest.mark.parametrize("fork_server", [False, True], ids=["direct", "fork-server"])
def test_a_waiting_sandbox_that_died_is_replaced(busybox_rootfs: Path, out: Any, fork_server: bool) -> None:
    """Killed while it waited (as with the thread that started it): the run starts a sandbox of its
    own, and the audit log holds only the sandbox that ran."""
    with Sandbox(
        "default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=1, fork_server=fork_server
    ) as box:
        waiting = box._ahead[0]
        assert waiting.runner is not None
        runner = waiting.runner
        deadline = time.monotonic() + 10
        while not runner.direct and not _descendants(runner.pid_a) and time.monotonic() < deadline:
            time.sleep(0.01)  # next to other threads, A forks PID 1: wait for it
        victims = [runner.pid_a, *_descendants(runner.pid_a)]  # PID 1, or A and PID 1
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_state(p) not in ("Z", "") for p in victims) and time.monotonic() < deadline:
            time.sleep(0.01)  # dead (zombies until reaped), not dying
        result = box.run(["/bin/sh", "-c", "exit 6"])
    assert result.status == 6
    assert [e["sandbox"]["id"] for e in _events("create")] == [result.sandbox_id]
    assert _leases() == []


@requires_root
@MODES
def test_a_failure_to_start_the_next_one_is_not_the_runs(
    busybox_rootfs: Path, out: Any, monkeypatch: pytest.MonkeyPatch, fork_server: bool | None
) -> None:
    """The next sandbox is started while a run's workload runs, or by the prewarm thread once it
    has returned: if that fails, the run still ends as its workload did, and the following run
    starts a sandbox of its own."""
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=1,
                 fork_server=fork_server) as box:  # fmt: skip
        start, spec = Session.start, Sandbox._spec

        def no_room(self: Session, ahead: bool = False) -> None:
            if ahead:
                raise SandboxError("no room for another sandbox")
            start(self, ahead)

        def image_gone(self: Sandbox, argv: Any) -> Any:
            if argv is None:
                raise SandboxError("the image is gone")
            return spec(self, argv)

        monkeypatch.setattr(Session, "start", no_room)
        monkeypatch.setattr(Sandbox, "_spec", image_gone)
        first = box.run(["/bin/sh", "-c", "exit 3"])  # the one started with the Sandbox
        second = box.run(["/bin/sh", "-c", "exit 4"])  # none waits: its own
        _settle(box)
        assert box._ahead == []
    assert (first.status, second.status) == (3, 4)
    assert _leases() == []


def test_combinations_that_cannot_work_are_refused() -> None:
    with pytest.raises(SandboxError, match="name="):
        Sandbox("default", name="fixed", prewarm=True)
    with pytest.raises(SandboxError, match="0 or more"):
        Sandbox("default", prewarm=-1)


def _sandbox_cgroups(pid: int) -> list[Path]:
    """The v1 cgroup directories of a sandbox's process (one per hierarchy it has a leaf in)."""
    found = []
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "/psb-" in path and controllers:
            found.append(Path("/sys/fs/cgroup", controllers.split(",")[0], path.lstrip("/")))
    return found


HOST = """
import sys
from pysandbox.sandbox.api import Sandbox
fork_server = {"None": None, "False": False}[sys.argv[2]]
box = Sandbox("strict", rootfs=sys.argv[1], prewarm=True, fork_server=fork_server)
box.run(["/bin/true"])
if box._prewarmer is not None:
    box._prewarmer.wait_idle()  # the next one started
print("ready", flush=True)
sys.stdin.read()
"""


@requires_root
@MODES
def test_the_waiting_sandbox_dies_with_its_caller(
    busybox_rootfs: Path, tmp_path: Path, fork_server: bool | None
) -> None:
    """kill -9 of the caller: the sandbox waiting for its command dies too (with the fork server,
    the server too), and the next launch reclaims its lease and cgroup."""
    env = {**os.environ, "PYSANDBOX_HOME": str(tmp_path / "home")}
    host = subprocess.Popen([sys.executable, "-c", HOST, str(busybox_rootfs), str(fork_server)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        assert host.stdout is not None
        assert host.stdout.readline().strip() == "ready"
        waiting = _descendants(host.pid)  # the server, if any, and the waiting sandbox's PID 1
        assert waiting, "no sandbox waiting"
        cgroups = [c for pid in waiting for c in _sandbox_cgroups(pid)]
        assert cgroups, "the waiting sandbox (strict: limits) has no cgroup"
        os.kill(host.pid, signal.SIGKILL)
        host.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in waiting) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(p) for p in waiting)
        argv = ["run", "--profile", "strict", "--rootfs", str(busybox_rootfs), "--", "/bin/true"]
        after = subprocess.run(
            [sys.executable, "-m", "pysandbox", *argv], env=env, capture_output=True, text=True
        )
        assert after.returncode == 0, after.stderr
        state = tmp_path / "home" / paths.STATE
        assert not state.exists() or [p for p in state.iterdir() if not p.name.startswith(".")] == []
        assert [c for c in cgroups if c.exists()] == []
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()


@requires_root
def test_a_sandbox_started_ahead_by_another_thread_is_left_to_it(busybox_rootfs: Path, out: Any) -> None:
    """A sandbox dies with the thread that started it: one that a worker thread started ahead
    must not run another thread's workload, or it dies with the worker in the middle of it."""
    box = Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=1, fork_server=False)
    try:
        leave = threading.Event()

        def worker() -> None:
            # runs the main thread's sandbox started ahead, and starts the next one itself
            assert box.run(["/bin/true"]).status == 0
            leave.wait(30)

        thread = threading.Thread(target=worker)
        thread.start()
        deadline = time.monotonic() + 30
        while not box._ahead and time.monotonic() < deadline:
            time.sleep(0.01)
        assert box._ahead and box._ahead[0].thread == thread.ident
        threading.Timer(0.3, leave.set).start()  # the worker ends while the next workload runs
        result = box.run(["/bin/sh", "-c", "sleep 1; exit 7"])
        thread.join()
        assert (result.status, result.signal) == (7, None)
    finally:
        box.close()


@requires_root
def test_a_run_ended_by_an_interrupt_records_its_exit(busybox_rootfs: Path, out: Any) -> None:
    box = Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            box.run(["/bin/sleep", "30"])
    finally:
        timer.cancel()
        box.close()
    [start] = _events("start")
    [end] = _events("exit")
    assert end["sandbox"]["id"] == start["sandbox"]["id"]
    assert (end["status"], end["signal"]) == (137, 9)
    assert end["reason"] == "ended by pysandbox: KeyboardInterrupt"
    assert run_psb("audit", "verify").returncode == 0


@requires_root
@pytest.mark.parametrize("fork_server", [False, True])
def test_a_closed_sandbox_refuses_to_run(busybox_rootfs: Path, out: Any, fork_server: bool) -> None:
    before = set(_descendants(os.getpid()))
    with Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, prewarm=2,
                 fork_server=fork_server) as box:  # fmt: skip
        assert box.run(["/bin/true"]).status == 0
    with pytest.raises(SandboxError, match="this Sandbox is closed: make a new one"):
        box.run(["/bin/true"])
    assert set(_descendants(os.getpid())) <= before  # nothing started again: no server, none ahead
    assert not _leases()


@requires_root
def test_signal_forwarding_outside_the_main_thread_is_refused_before_anything_starts(
    busybox_rootfs: Path, out: Any
) -> None:
    box = Sandbox("default", rootfs=busybox_rootfs, stdout=out, stderr=out, forward_signals=True)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            box.run(["/bin/true"])
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    [error] = errors
    assert isinstance(error, SandboxError) and "needs the main thread" in str(error)
    assert _events("create") == []  # refused before a sandbox was made
    assert box.run(["/bin/true"]).status == 0  # from the main thread it works
