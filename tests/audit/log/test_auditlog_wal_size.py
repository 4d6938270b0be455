"""The WAL stays short: the first process to open the log reads all of it, so a commit that takes
it past WAL_CHECKPOINT_PAGES checkpoints it, and SQLite starts it over in place."""

from __future__ import annotations

import os
import sqlite3
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import requires_root

from pysandbox import paths
from pysandbox.audit import store as store_module
from pysandbox.audit.recorder import Recorder
from pysandbox.audit.store import Store
from pysandbox.sandbox.api import Sandbox

PAGES = 48  # well past the first commit, which creates the schema (~16 pages)
FRAME = 4096 + 24  # a page and its frame header
HEADER = 32


@pytest.fixture
def pages(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(store_module, "WAL_CHECKPOINT_PAGES", PAGES)
    return PAGES


def _wal_size() -> int:
    wal = f"{paths.audit_db()}-wal"
    return os.path.getsize(wal) if os.path.exists(wal) else 0


def _wal_frames() -> int:
    """Frames in the WAL that a reader would see, checkpointed or not (a passive checkpoint copies
    nothing new here: the writer has checkpointed already, or the frames are past the threshold)."""
    conn = sqlite3.connect(paths.audit_db())
    try:
        return int(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
    finally:
        conn.close()


def test_commits_keep_the_wal_short_and_start_it_over_in_place(pages: int, audit) -> None:
    rec = Recorder("sb-wal1", "w", "default", store=Store(paths.audit_db()))
    sizes = []
    for n in range(60):
        rec.event("start", durable=True, pid=n)
        sizes.append(_wal_size())
    rec.close()
    assert max(sizes) <= HEADER + FRAME * (pages + 8)  # the threshold and one commit's frames
    restarts = [b for a, b in pairwise(sizes) if b == a]  # written over in place: same size
    assert restarts and sizes[-1] == max(sizes)  # the file is never cut
    verify = audit("verify")
    assert verify.returncode == 0 and "60 events" in verify.stdout


def test_the_default_threshold_is_what_sqlite_checkpoints_at() -> None:
    conn = Store(paths.audit_db()).conn()
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == store_module.WAL_CHECKPOINT_PAGES < 1000


def test_a_bulk_writer_keeps_sqlites_threshold() -> None:
    """Batches of thousands of events fill the WAL fast: checkpoints every 256 pages would slow
    them down, and openers read such a WAL once per ~1000 pages of events, not per launch."""
    store = Store(paths.audit_db())
    rec = Recorder("sb-bulk", "b", "default", store=store)
    rec.event("start", durable=True, pid=1)
    threshold = store.conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    assert threshold == store_module.WAL_CHECKPOINT_PAGES
    for i in range(store_module.BULK_EVENTS + 1):
        rec.event("exit", status=i, signal=None, duration=0.1)
    rec.flush(durable=True)
    assert store.conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    rec.close()  # closes the store: a connection of its own is made again on demand
    assert store.conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    store.close()


@requires_root
def test_launches_keep_the_wal_short(pages: int, busybox_rootfs: Path, audit) -> None:
    box = Sandbox("default", rootfs=busybox_rootfs)
    for _ in range(10):
        assert box.run(["/bin/true"]).status == 0
    box.close()
    assert _wal_size() <= HEADER + FRAME * (pages + 16)
    assert _wal_frames() <= pages + 16
    assert audit("verify").returncode == 0
