"""The launcher's recorder: events, durability boundaries, seccomp rate limiting, event checks."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from pysandbox import paths
from pysandbox.audit import chain
from pysandbox.audit.chain import fields_json
from pysandbox.audit.recorder import Recorder, record
from pysandbox.types import UserError


def _rows(where: str = "1") -> list[dict[str, object]]:
    conn = sqlite3.connect(paths.audit_db())
    try:
        return [json.loads(b) for (b,) in conn.execute(f"SELECT body FROM events WHERE {where} ORDER BY seq")]
    finally:
        conn.close()


def test_durable_event_commits_everything_before_it_in_one_go() -> None:
    rec = Recorder("sb1", "one", "strict")
    rec.event("create", image="alpine")
    assert not paths.audit_db().exists()  # nothing opened yet: no cost before the first durable event
    rec.event("start", durable=True, pid=1)
    assert [r["type"] for r in _rows()] == ["create", "start"]
    rec.event("limit_hit", resource="memory", limit=1 << 20)
    assert len(_rows()) == 2  # batched: waits for the next durable event or close
    rec.close()
    assert [r["type"] for r in _rows()] == ["create", "start", "limit_hit"]


def test_prepare_commits_what_waits_and_leaves_its_fsync_to_the_next_durable_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The launcher's set-up: create commits while PID 1 builds its root (a kill -9 of the launcher
    from then on leaves it in the log), and the start event's fsync covers it before the workload
    starts."""
    record("scan", target="alpine", verdict="pass")  # a log that exists: its creation syncs
    synced: list[int] = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(fd), real(fd))[1])
    rec = Recorder("sb1", "one", "default")
    rec.event("create", image="alpine")
    rec.prepare()
    ours = "type IN ('create', 'start')"
    assert [r["type"] for r in _rows(ours)] == ["create"]  # committed: another connection reads it
    assert synced == []  # ...and not yet fsync'd: that is the start event's to pay
    rec.event("start", durable=True, pid=1)
    assert [r["type"] for r in _rows(ours)] == ["create", "start"] and len(synced) == 1
    rec.close()


def test_acknowledged_event_survives_the_writer_being_killed() -> None:
    script = (
        "import os, signal\n"
        "from pysandbox.audit.recorder import Recorder\n"
        "r = Recorder('k9', 'killed', 'strict')\n"
        "r.event('create', image='x')\n"
        "r.event('start', durable=True, pid=7)\n"
        "r.event('limit_hit', resource='pids')\n"  # not durable, never flushed: may be lost
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -9
    assert [r["type"] for r in _rows()] == ["create", "start"]


def test_envelope_carries_time_user_profile_and_sandbox() -> None:
    before = time.time_ns()
    with Recorder("sb2", "two", "default") as rec:
        rec.event("oom_kill", pid=12, limit=64 << 20)
    (row,) = _rows()
    assert before <= row["time"] <= time.time_ns()  # type: ignore[operator]
    assert row["sandbox"] == {"id": "sb2", "name": "two"} and row["profile"] == "default"
    assert row["fields"] == {"pid": 12, "limit": 64 << 20}


def test_seccomp_storm_is_aggregated_per_syscall_and_window() -> None:
    with Recorder("storm", "s", "strict", seccomp_window=3600) as rec:
        for i in range(20000):
            rec.event("seccomp_violation", syscall="ptrace", nr=101, pid=100 + i % 7)
        for _ in range(300):
            rec.event("seccomp_violation", syscall="keyctl", nr=250, pid=5)
        rec.event("exit", durable=True, status=159, signal=31)
    rows = _rows()
    assert len(rows) == 5
    by_call: dict[str, int] = {}
    for row in rows[:4]:
        fields = row["fields"]
        assert isinstance(fields, dict) and row["type"] == "seccomp_violation"
        by_call[fields["syscall"]] = by_call.get(fields["syscall"], 0) + fields["count"]
    assert by_call == {"ptrace": 20000, "keyctl": 300}
    assert rows[4]["type"] == "exit"  # repeats are released before the exit they preceded


def test_a_new_window_starts_a_new_event() -> None:
    with Recorder("win", "w", "strict", seccomp_window=0.2) as rec:
        rec.event("seccomp_violation", syscall="mount", nr=165, pid=3)
        rec.event("seccomp_violation", syscall="mount", nr=165, pid=3)
        time.sleep(0.3)
        rec.event("seccomp_violation", syscall="mount", nr=165, pid=4)
    counts = [r["fields"]["count"] for r in _rows()]  # type: ignore[index]
    assert counts == [1, 1, 1]


def test_distinct_syscalls_are_bounded() -> None:
    with Recorder("many", "m", "strict", seccomp_window=3600) as rec:
        for nr in range(2000):
            rec.event("seccomp_violation", syscall=f"nr_{nr}", nr=nr, pid=1)
    rows = _rows()
    assert len(rows) <= 2 * 256 + 1
    assert sum(r["fields"]["count"] for r in rows) == 2000  # type: ignore[index]


def test_record_without_a_sandbox() -> None:
    record("image_import", image="alpine:3.20", digest="sha256:" + "a" * 64, source="docker-archive")
    record("scan", target="alpine:3.20", counts={"high": 1}, verdict="fail", tool="pysandbox")
    rows = _rows()
    assert [r["type"] for r in rows] == ["image_import", "scan"]
    assert all(r["sandbox"] == {"id": None, "name": None} for r in rows)


@pytest.mark.parametrize(
    ("type_", "fields", "problem"),
    [
        ("explode", {}, "unknown audit event type"),
        ("exit", {"status": 0}, "lacks field"),
        ("policy_denied", {"flag": "--privileged"}, "lacks field"),
        ("mount", {"source": "/", "target": "/x", "seq": 3}, "reserved"),
    ],
)
def test_launcher_mistakes_are_caught(type_: str, fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Recorder("x", "x", "strict").event(type_, **fields)


def test_field_encoding_is_canonical_json() -> None:
    value = {"b": [1, 2.5, True, None, 'é"\n\u2028'], "a": {"z": 1, "y": -0.0, "x": 1e300}, "c": ("t",)}
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert fields_json(value) == expected  # json's C encoder, built once
    assert chain._canon(value) == expected  # the fallback for keys that do not sort
    assert fields_json({1: "a", "b": 2, None: 3}) == '{"1":"a","b":2,"null":3}'
    with pytest.raises(ValueError):
        chain._canon({"x": float("nan")})
    with pytest.raises(ValueError):
        fields_json({"x": float("inf")})


def test_unwritable_log_fails_closed(psb_home) -> None:
    paths.audit_db().mkdir()  # a directory where the database should be
    rec = Recorder("sb", "n", "strict")
    with pytest.raises(UserError):
        rec.event("create", durable=True)
    with pytest.raises(UserError):
        record("scan", target="x")


def test_repeats_come_before_the_exit_even_when_it_is_batched() -> None:
    with Recorder("order", "o", "strict", seccomp_window=3600) as rec:
        for _ in range(3):
            rec.event("seccomp_violation", syscall="bpf", nr=321, pid=2)
        rec.event("exit", status=0, signal=None)
    assert [(r["type"], r["fields"].get("count")) for r in _rows()] == [  # type: ignore[union-attr]
        ("seccomp_violation", 1),
        ("seccomp_violation", 2),
        ("exit", None),
    ]
