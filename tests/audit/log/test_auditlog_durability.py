"""Many writer processes, kill -9 in the middle: every acknowledged event survives, the chain
verifies; a sandbox's exit is on disk when its run returns."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pysandbox import paths
from pysandbox.sandbox.api import Sandbox

WRITER = r"""
import sys
from pysandbox.audit.recorder import Recorder

wid, rounds = sys.argv[1], int(sys.argv[2])
n = 0
while rounds == 0 or n < rounds:
    sid = f"w{wid}-{n:05d}"
    rec = Recorder(sid, f"writer-{wid}", "strict")
    rec.event("create", image="busybox", k=0)
    rec.event("start", durable=True, pid=n, k=1)
    print(f"ACK {sid} 2", flush=True)
    for k in range(2, 12):
        rec.event("limit_hit", resource="pids", limit=64, k=k)
    rec.event("exit", durable=True, status=n % 3, signal=None, duration=0.01, k=12)
    print(f"ACK {sid} 13", flush=True)
    rec.close()
    n += 1
"""

HOLD_LOCK = r"""
import time
from pysandbox.audit.store import Store

store = Store()
conn = store.conn()
conn.execute("BEGIN IMMEDIATE")
body = '{"seq":999,"time":1,"type":"exit","sandbox":{"id":"ghost"}}'
conn.execute("INSERT INTO events (seq, body, digest) VALUES (999, ?, x'00')", (body,))
print("LOCKED", flush=True)
time.sleep(600)
"""


def _writer(wid: int, rounds: int, out: Path) -> subprocess.Popen[bytes]:
    with open(out, "wb") as fh:
        return subprocess.Popen(
            [sys.executable, "-c", WRITER, str(wid), str(rounds)], stdout=fh, stderr=subprocess.PIPE
        )


def _acks(out: Path) -> dict[str, int]:
    acked: dict[str, int] = {}
    text = out.read_text()
    for line in text.splitlines(keepends=True):
        if line.endswith("\n") and line.startswith("ACK "):
            _, sid, count = line.split()
            acked[sid] = max(acked.get(sid, 0), int(count))
    return acked


def _events_by_sandbox() -> dict[str, set[int]]:
    conn = sqlite3.connect(paths.audit_db())
    try:
        seen: dict[str, set[int]] = {}
        for sid, k in conn.execute("SELECT sandbox_id, json_extract(body, '$.fields.k') FROM events"):
            seen.setdefault(sid, set()).add(k)
        return seen
    finally:
        conn.close()


def test_kill_9_writers_mid_stream_loses_no_acknowledged_event(audit, tmp_path: Path) -> None:
    outs = [tmp_path / f"w{i}.out" for i in range(4)]
    procs = [_writer(i, 0, out) for i, out in enumerate(outs)]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and min(len(_acks(o)) for o in outs) < 15:
            time.sleep(0.1)
            for p in procs:
                assert p.poll() is None, p.stderr.read() if p.stderr else ""
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p in procs:
            p.wait()
            if p.stderr:
                p.stderr.close()
    acked = {sid: n for out in outs for sid, n in _acks(out).items()}
    assert len(acked) >= 60
    stored = _events_by_sandbox()
    for sid, count in acked.items():
        assert set(range(count)) <= stored.get(sid, set()), sid
    proc = audit("verify")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the log stays writable after the kills (no stale lock, no broken WAL)
    extra = _writer(9, 1, tmp_path / "after.out")
    assert extra.wait(timeout=60) == 0
    assert _acks(tmp_path / "after.out") == {"w9-00000": 13}
    assert audit("verify").returncode == 0


def test_writer_killed_inside_its_transaction_leaves_no_trace(audit, filled) -> None:
    filled(5)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "LOCKED"
        os.kill(holder.pid, signal.SIGKILL)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout:
            holder.stdout.close()
    filled(5, sandbox="sb-after")
    assert "ghost" not in _events_by_sandbox()
    proc = audit("verify")
    assert proc.returncode == 0 and "10 events" in proc.stdout, proc.stdout


def test_concurrent_writers_share_one_gapless_chain(audit, tmp_path: Path) -> None:
    procs = [_writer(i, 6, tmp_path / f"c{i}.out") for i in range(6)]
    for p in procs:
        assert p.wait(timeout=240) == 0, p.stderr.read() if p.stderr else ""
        if p.stderr:
            p.stderr.close()
    conn = sqlite3.connect(paths.audit_db())
    try:
        seqs = [s for (s,) in conn.execute("SELECT seq FROM events ORDER BY seq")]
    finally:
        conn.close()
    assert seqs == list(range(1, 6 * 6 * 13 + 1))
    proc = audit("verify")
    assert proc.returncode == 0 and f"{len(seqs)} events" in proc.stdout


@pytest.mark.parametrize(
    "profile", ["default", "strict"]
)  # exit committed while PID 1 exits / after cgroup stats
def test_a_sandboxs_exit_is_fsyncd_before_run_returns(
    profile: str, busybox_rootfs: Path, monkeypatch: pytest.MonkeyPatch, audit
) -> None:
    wal = f"{paths.audit_db()}-wal"
    synced: list[int] = []  # the WAL's size at each of its fsyncs
    real = os.fdatasync

    def spy(fd: int) -> None:
        real(fd)
        if os.readlink(f"/proc/self/fd/{fd}") == wal:
            synced.append(os.fstat(fd).st_size)

    monkeypatch.setattr(os, "fdatasync", spy)
    with Sandbox(profile, rootfs=busybox_rootfs) as box:
        for _ in range(2):
            assert box.run(["/bin/true"]).status == 0
            assert synced and synced[-1] == os.path.getsize(wal)  # nothing committed past the last fsync
    exits = audit("log", "--type", "exit", "--format", "json")
    assert exits.returncode == 0 and len(json.loads(exits.stdout)) == 2, exits.stdout
