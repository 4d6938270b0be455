"""`pysandbox ps` lists the running sandboxes; `pysandbox kill` signals one through its PID 1."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_root

from pysandbox import paths
from pysandbox.sandbox import control, session
from pysandbox.sandbox.api import Sandbox

from .conftest import Psb, one_line_error


def _cli(psb: Psb, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [psb.argv()[0], "-m", "pysandbox", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=psb.env(), **psb._who())


def _listed(psb: Psb, name: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = _cli(psb, "ps", "--format", "json")
        assert done.returncode == 0, done.stderr
        found = [s for s in json.loads(done.stdout) if s["name"] == name]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"{name} never listed")


@pytest.fixture
def started(psb_mode: Psb) -> Any:
    procs: list[subprocess.Popen[str]] = []

    def start(name: str, script: str) -> subprocess.Popen[str]:
        rootfs = str(psb_mode.rootfs)
        procs.append(psb_mode.popen("--name", name, "--rootfs", rootfs, "--", "/bin/sh", "-c", script))
        return procs[-1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_ps_lists_a_running_sandbox_and_kill_term_reaches_its_workload(psb_mode: Psb, started: Any) -> None:
    proc = started("web1", 'trap "echo got-term; exit 5" TERM; sleep 60 & wait')
    state = _listed(psb_mode, "web1")
    assert state["command"][:2] == ["/bin/sh", "-c"] and state["profile"] == "default"
    assert state["pid"] == proc.pid and state["init"] > 0 and state["started"].endswith("Z")
    table = _cli(psb_mode, "ps").stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "SANDBOX", "ID"] and any(r.startswith("web1 ") for r in table[1:])
    killed = _cli(psb_mode, "kill", "--signal", "TERM", "web1")
    assert killed.returncode == 0 and killed.stdout.split() == ["web1"], killed.stderr
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 5 and out == "got-term\n"
    assert "web1" not in _cli(psb_mode, "ps", "-q").stdout.split()


def test_kill_ends_the_sandbox_and_its_launcher_records_the_exit(psb_mode: Psb, started: Any) -> None:
    proc = started("doomed", "sleep 60")
    sandbox_id = _listed(psb_mode, "doomed")["id"]
    assert _cli(psb_mode, "kill", sandbox_id[:8]).returncode == 0  # KILL, by an id prefix
    proc.communicate(timeout=30)
    assert proc.returncode == 137  # as docker: 128 + SIGKILL
    exits = json.loads(_cli(psb_mode, "audit", "log", "--sandbox", sandbox_id, "--type", "exit",
                            "--format", "json").stdout)  # fmt: skip
    assert [e["status"] for e in exits] == [137]
    assert _cli(psb_mode, "ps", "-q").stdout.strip() == ""


@requires_root
def test_a_name_left_by_a_killed_launcher_is_listed_with_its_new_state(
    busybox_rootfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = Path(paths.location(paths.STATE), "reused")  # as a kill -9 of its launcher leaves it
    stale.mkdir(parents=True)
    old = {"name": "reused", "id": "0" * 32, "pid": 1, "init": 1, "command": ["x" * 500]}
    (stale / "lock").write_text(json.dumps(old) + "\n")
    # a long-lived launcher swept stale names a moment ago: this one is taken over as it is
    monkeypatch.setattr(session, "_LAST_SWEEP", [time.monotonic()])
    results: list[Any] = []
    box = Sandbox("default", rootfs=busybox_rootfs, name="reused")
    thread = threading.Thread(target=lambda: results.append(box.run(["sleep", "60"])))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not (listed := [s for s in control.running() if s.name == "reused"]):
            assert time.monotonic() < deadline, "never listed"
            time.sleep(0.05)
        assert listed[0].command == ["sleep", "60"]  # not the stale state with its tail
    finally:
        control.kill(["reused"], signal.SIGKILL)
        thread.join(timeout=30)
    assert [r.status for r in results] == [137] and not stale.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["kill", "nosuch"], "no running sandbox named 'nosuch': see `pysandbox ps`"),
        (["kill", "-s", "WINCH", "x"], "signal 'WINCH' cannot be sent to a sandbox: use one of KILL, INT"),
        (["ps", "--format", "xml"], "unknown format 'xml': use table or json"),
    ],
)
def test_bad_input(psb_self: Psb, args: list[str], expected: str) -> None:
    done = _cli(psb_self, *args)
    assert done.returncode == 2 and expected in one_line_error(done.stderr)
