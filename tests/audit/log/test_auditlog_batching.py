"""The recorder's batching (by size and by time) and the store's fsync: a durable event returns
only after the WAL holding it is fsync'd; batches are fsync'd in the background and close waits."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from pysandbox import paths
from pysandbox.audit import recorder
from pysandbox.audit.recorder import Recorder


def _count() -> int:
    conn = sqlite3.connect(paths.audit_db())
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int]]]:
    """Every os.fdatasync this process makes: (path, size of the file then)."""
    seen: list[tuple[str, int]] = []
    real = os.fdatasync

    def spy(fd: int) -> None:
        seen.append((os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_size))
        real(fd)

    monkeypatch.setattr(os, "fdatasync", spy)
    yield seen


@pytest.fixture
def reader() -> Iterator[Callable[[], sqlite3.Connection]]:
    """A connection held open, so that the WAL outlives the writer's close (SQLite removes it
    when the last connection closes) and its final size can be compared with what was synced."""
    conn: sqlite3.Connection | None = None

    def connect() -> sqlite3.Connection:
        nonlocal conn
        conn = sqlite3.connect(paths.audit_db())
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn

    yield connect
    if conn is not None:
        conn.close()


def test_durable_event_returns_after_its_wal_is_fsynced(
    syncs: list[tuple[str, int]], reader: Callable[[], sqlite3.Connection]
) -> None:
    wal = f"{paths.audit_db()}-wal"
    rec = Recorder("sb-sync", "s", "strict")
    rec.event("create", image="alpine")
    assert syncs == []  # nothing written yet
    rec.event("start", durable=True, pid=1)
    reader()
    assert syncs and syncs[-1] == (wal, os.path.getsize(wal))  # the whole WAL, as committed
    before = len(syncs)
    rec.event("limit_hit", resource="pids")
    rec.event("exit", durable=True, status=0, signal=None)
    assert len(syncs) == before + 1 and syncs[-1] == (wal, os.path.getsize(wal))
    rec.close()


def test_batches_commit_by_size_and_close_syncs_them(
    monkeypatch: pytest.MonkeyPatch, syncs: list[tuple[str, int]], reader: Callable[[], sqlite3.Connection]
) -> None:
    monkeypatch.setattr(recorder, "BATCH_EVENTS", 10)
    wal = f"{paths.audit_db()}-wal"
    rec = Recorder("sb-batch", "b", "strict")
    for i in range(25):
        rec.event("limit_hit", resource="pids", count=i)
    assert _count() == 20  # two batches committed, five waiting
    reader()
    rec.close()
    assert _count() == 25
    # the last fsync came after the last commit: it covered the WAL as it stands
    assert syncs and syncs[-1] == (wal, os.path.getsize(wal))


def test_a_durable_flush_waits_for_batches_synced_in_the_background(
    monkeypatch: pytest.MonkeyPatch, syncs: list[tuple[str, int]], reader: Callable[[], sqlite3.Connection]
) -> None:
    monkeypatch.setattr(recorder, "BATCH_EVENTS", 10)
    wal = f"{paths.audit_db()}-wal"
    rec = Recorder("sb-bg", "b", "strict")
    for i in range(20):
        rec.event("limit_hit", resource="pids", count=i)
    reader()
    assert rec.flush() == []  # nothing waits to be committed, but the two batches must be on disk
    assert syncs and syncs[-1] == (wal, os.path.getsize(wal))
    rec.close()


def test_batches_commit_by_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder, "_BATCH_NS", 50_000_000)
    rec = Recorder("sb-time", "t", "strict")
    rec.event("limit_hit", resource="memory")
    time.sleep(0.1)
    rec.event("limit_hit", resource="memory")  # the first has waited long enough: both go
    assert _count() == 2
    rec.event("limit_hit", resource="memory")
    assert _count() == 2
    rec.close()
    assert _count() == 3


WRITER = r"""
import os, signal
from pysandbox.audit import recorder
recorder.BATCH_EVENTS = 10
rec = recorder.Recorder("sb-k9", "k", "strict")
for i in range(25):
    rec.event("limit_hit", resource="pids", count=i)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_committed_batches_survive_kill_9(audit) -> None:
    proc = subprocess.run([sys.executable, "-c", WRITER], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert _count() == 20
    verified = audit("verify")
    assert verified.returncode == 0 and "20 events" in verified.stdout, verified.stdout


def test_close_without_waiting_commits_and_the_next_durable_event_fsyncs_it(
    syncs: list[tuple[str, int]], reader: Callable[[], sqlite3.Connection]
) -> None:
    """A sandbox's exit: committed before `run` returns, its fsync left to the next sandbox's
    durable start (one fdatasync a launch instead of two) or to the writer's close."""
    wal = f"{paths.audit_db()}-wal"
    first = Recorder("sb-exit1", "e1", "default")
    first.event("start", durable=True, pid=1)
    reader()
    synced = len(syncs)
    first.event("exit", status=0, signal=None)
    first.close(durable=False)
    assert _count() == 2 and len(syncs) == synced  # committed, not fsync'd yet
    assert os.path.getsize(wal) > syncs[-1][1]
    second = Recorder("sb-exit2", "e2", "default")
    second.event("start", durable=True, pid=2)
    assert len(syncs) == synced + 1 and syncs[-1] == (wal, os.path.getsize(wal))  # both, in one fsync
    second.event("exit", status=0, signal=None)
    second.close(durable=False)
    assert len(syncs) == synced + 1
    recorder._close_shared()  # the process's writer at exit: what is owed gets its fsync
    assert len(syncs) == synced + 2 and syncs[-1] == (wal, os.path.getsize(wal))


EXITING = r"""
import os, signal
from pysandbox.audit.recorder import Recorder
rec = Recorder("sb-exit-k9", "k", "default")
rec.event("start", durable=True, pid=3)
rec.event("exit", status=0, signal=None)
rec.close(durable=False)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_an_exit_committed_without_its_fsync_survives_kill_9(audit) -> None:
    proc = subprocess.run([sys.executable, "-c", EXITING], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert _count() == 2
    assert audit("verify").returncode == 0


def test_a_new_wal_has_its_directory_entry_synced_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each cold `pysandbox run` opens the WAL an earlier one made: the directory fsync that makes
    a new WAL's entry durable is paid once per WAL file, not once per process (or Store)."""
    from pysandbox.audit import store as store_module
    from pysandbox.audit.store import Store

    synced_dirs: list[str] = []
    real = store_module._fsync_path

    def spy(path: str) -> None:
        synced_dirs.append(path)
        real(path)

    monkeypatch.setattr(store_module, "_fsync_path", spy)
    home = str(paths.audit_db().parent)

    def one_writer(n: int) -> None:
        rec = Recorder(f"sb-dir{n}", "d", "default", store=Store(paths.audit_db()))
        rec.event("start", durable=True, pid=n)
        if n == 2:  # a reader keeps the WAL from being checkpointed away when this writer closes
            held.append(sqlite3.connect(paths.audit_db()))
            held[0].execute("SELECT count(*) FROM events").fetchone()
        rec.close()

    held: list[sqlite3.Connection] = []
    one_writer(1)  # closes as the last connection: SQLite deletes the WAL
    one_writer(2)  # a new WAL, synced into its directory
    one_writer(3)  # the same WAL (the reader holds it): no directory fsync
    assert os.getxattr(f"{paths.audit_db()}-wal", store_module.ENTRY_SYNCED) == b"1"
    held[0].close()
    assert synced_dirs.count(home) == 2
