"""An interrupt (KeyboardInterrupt, or any exception a signal handler raises) in the middle of a
commit leaves the log unlocked: the transaction is rolled back, this process's next commit works,
and other writers are not kept waiting."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest

from pysandbox.audit.store import Store, pending


def _event(n: int) -> Any:
    return pending(time.time_ns(), "create", f"sb-{n}", f"box-{n}", "root", "default", "{}")


class _InterruptAfter:
    """The store's connection, raising KeyboardInterrupt right after one statement has run (as a
    signal handler would at the next bytecode)."""

    def __init__(self, conn: sqlite3.Connection, statement: str) -> None:
        self.conn, self.statement = conn, statement

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        cursor = self.conn.execute(sql, *args)
        if sql == self.statement:
            self.statement = ""
            raise KeyboardInterrupt
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def _other_writer_can_write(path: str) -> bool:
    other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@pytest.mark.parametrize("statement", ["BEGIN IMMEDIATE", "COMMIT"])
def test_an_interrupt_inside_a_commit_leaves_the_log_unlocked(
    monkeypatch: pytest.MonkeyPatch, statement: str
) -> None:
    store = Store()
    try:
        store.append([_event(0)])
        real = store.conn()
        monkeypatch.setattr(store, "conn", lambda: _InterruptAfter(real, statement))
        with pytest.raises(KeyboardInterrupt):
            store.append([_event(1)])
        monkeypatch.undo()
        assert not real.in_transaction
        assert _other_writer_can_write(store.path)
        rows = store.append([_event(2)])
        committed = 1 if statement == "COMMIT" else 0  # an interrupt after COMMIT: the commit stands
        assert rows[0][0] == 2 + committed
    finally:
        store.close()


def test_a_transaction_an_interrupt_left_open_is_rolled_back_by_the_next_commit() -> None:
    store = Store()
    try:
        store.append([_event(0)])
        conn = store.conn()
        conn.execute("BEGIN IMMEDIATE")  # as an interrupt that landed past the rollback would leave it
        conn.execute("INSERT INTO meta VALUES ('stray', 'x')")
        rows = store.append([_event(1)])
        assert rows[0][0] == 2
        assert not conn.in_transaction
        assert "stray" not in store.meta()
        assert _other_writer_can_write(store.path)
    finally:
        store.close()
