"""The WAL stays short: the first process to open the log reads all of it, so writers checkpoint it
once it passes WAL_TIDY_BYTES (Store.tidy, after "S") and SQLite cuts it when it starts over."""

from __future__ import annotations

import os
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import requires_root

from pysandbox import paths
from pysandbox.audit import store as store_module
from pysandbox.audit.recorder import Recorder
from pysandbox.audit.store import Store
from pysandbox.sandbox.api import Sandbox

LIMIT = 256 << 10  # well past the first commit, which creates the schema (~16 pages)


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(store_module, "WAL_TIDY_BYTES", LIMIT)
    return LIMIT


def _wal_size() -> int:
    wal = f"{paths.audit_db()}-wal"
    return os.path.getsize(wal) if os.path.exists(wal) else 0


def _commit(rec: Recorder, n: int) -> None:
    rec.event("start", durable=True, pid=n)


def test_a_long_wal_is_checkpointed_and_cut_when_it_starts_over(limit: int, audit) -> None:
    store = Store(paths.audit_db())
    rec = Recorder("sb-wal1", "w", "default", store=store)
    n = 0
    while _wal_size() <= limit:
        n += 1
        _commit(rec, n)
    long = _wal_size()
    store.tidy()
    _commit(rec, n + 1)  # the first commit after a full checkpoint starts the WAL over
    assert _wal_size() < limit < long
    rec.close()
    assert audit("verify").returncode == 0
    assert f"{n + 1} events" in audit("verify").stdout


def test_a_short_wal_is_left_alone(limit: int) -> None:
    store = Store(paths.audit_db())
    rec = Recorder("sb-wal2", "w", "default", store=store)
    _commit(rec, 1)
    short = _wal_size()
    store.tidy()
    _commit(rec, 2)
    assert short < _wal_size() <= limit  # appended to, not started over
    rec.close()


@requires_root
def test_launches_keep_the_wal_short(limit: int, busybox_rootfs: Path, audit) -> None:
    box = Sandbox("default", rootfs=busybox_rootfs)
    sizes = []
    for _ in range(12):
        assert box.run(["/bin/true"]).status == 0
        sizes.append(_wal_size())
    box.close()
    grown = max(b - a for a, b in pairwise(sizes))  # what one launch adds
    assert max(sizes) <= limit + grown
    assert any(b < a for a, b in pairwise(sizes))  # started over at least once
    assert audit("verify").returncode == 0
