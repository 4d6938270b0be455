"""A log written with schema 1 (time, type and sandbox id stored as copies beside each record)
is upgraded in place when it is opened: same records, same digests, the chain still verifies,
and the highest seq ever issued still exposes a truncated tail."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from pysandbox import paths
from pysandbox.audit import recorder
from pysandbox.audit.recorder import Recorder

# What schema 1 created (pysandbox before the generated columns).
V1_SCHEMA = """
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, digest TEXT NOT NULL,
    time_ns INTEGER NOT NULL, type TEXT NOT NULL, sandbox_id TEXT
);
CREATE INDEX events_by_sandbox ON events(sandbox_id);
CREATE INDEX events_by_type ON events(type);
CREATE INDEX events_by_time ON events(time_ns);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE checkpoints (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, time_ns INTEGER NOT NULL);
CREATE TABLE sink_cursors (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


def rewrite_as_v1(db: Path, issued_extra: int = 0) -> list[tuple[int, str, str]]:
    """The log's records and meta rewritten into a schema-1 database at the same path."""
    recorder._close_shared()  # this process's writer must not keep the old file open
    src = sqlite3.connect(db)
    cursor = src.execute("SELECT seq, body, digest, time_ns, type, sandbox_id FROM events ORDER BY seq")
    rows = cursor.fetchall()
    meta = src.execute("SELECT key, value FROM meta").fetchall()
    marks = src.execute("SELECT seq, digest, time_ns FROM checkpoints").fetchall()
    src.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{db}{suffix}"):
            os.unlink(f"{db}{suffix}")
    v1 = sqlite3.connect(db, isolation_level=None)
    v1.execute("PRAGMA journal_mode=WAL")
    v1.executescript(V1_SCHEMA)
    v1.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
    v1.executemany("INSERT INTO meta VALUES (?, ?)", meta)
    v1.executemany("INSERT INTO checkpoints VALUES (?, ?, ?)", marks)
    v1.execute("UPDATE sqlite_sequence SET seq = seq + ? WHERE name = 'events'", (issued_extra,))
    v1.execute("PRAGMA user_version=1")
    v1.close()
    return [(seq, body, digest) for seq, body, digest, *_ in rows]


def test_a_schema_1_log_is_upgraded_and_still_verifies(audit, filled) -> None:
    filled(10)
    before = rewrite_as_v1(paths.audit_db())
    proc = audit("verify")
    assert proc.returncode == 0, proc.stderr
    assert "10 events verified" in proc.stdout
    conn = sqlite3.connect(paths.audit_db())
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT seq, body, digest FROM events ORDER BY seq").fetchall() == before
    assert conn.execute("SELECT count(*) FROM events WHERE type = 'exit'").fetchone()[0] == 8
    conn.close()
    listed = audit("log", "--type", "exit", "--format", "json")
    assert [e["status"] for e in json.loads(listed.stdout)] == list(range(8))
    with Recorder("sb-0002", "after", "strict") as rec:  # a writer goes on from the upgraded log
        rec.event("start", durable=True, pid=7)
    again = audit("verify")
    assert again.returncode == 0 and "11 events verified" in again.stdout


def test_the_upgrade_keeps_the_evidence_of_a_truncated_tail(audit, filled) -> None:
    filled(10)
    rewrite_as_v1(paths.audit_db(), issued_extra=2)  # seq 11 and 12 were issued, then cut off
    proc = audit("verify")
    assert proc.returncode == 1
    assert "log ends at seq 10 but seq 12 was issued (truncated)" in proc.stdout + proc.stderr
