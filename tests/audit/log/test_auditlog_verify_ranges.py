"""`verify` over ranges walked by forked workers finds the same first bad seq as one walk,
wherever the tampering falls: inside a range, on either side of a boundary, at the head."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable

import pytest

from pysandbox import paths
from pysandbox.audit import verify
from pysandbox.audit.chain import Verdict

RECORDS = 90  # three ranges of 30: seqs 1-30, 31-60, 61-90


def _verdict(monkeypatch: pytest.MonkeyPatch, workers: int) -> Verdict:
    monkeypatch.setattr(verify, "_workers", lambda records: workers)
    return verify.verify_log()


def _tamper(sql: str, *params: object) -> None:
    # closed before verify forks: a connection must not cross a fork
    conn = sqlite3.connect(paths.audit_db(), isolation_level=None)
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


_REPLACE = "UPDATE events SET body = replace(body, ?, ?) WHERE seq = ?"


def _edit_body(seq: int, recompute_digest: bool = False) -> None:
    conn = sqlite3.connect(paths.audit_db(), isolation_level=None)
    try:
        (body,) = conn.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()
        edited = re.sub(r'"status":\d+', '"status":999', body)
        assert edited != body
        digest = hashlib.sha256(edited.encode()).hexdigest() if recompute_digest else None
        conn.execute(
            "UPDATE events SET body = ?, digest = coalesce(?, digest) WHERE seq = ?", (edited, digest, seq)
        )
    finally:
        conn.close()


def test_ranges_split_the_log(filled: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> None:
    filled(RECORDS)
    monkeypatch.setattr(verify, "_workers", lambda records: 3)
    assert verify._split(1, RECORDS) == [(1, 30), (31, 60), (61, 90)]
    verdict = verify.verify_log()
    assert verdict.ok and verdict.count == RECORDS and verdict.head_seq == RECORDS
    single = _verdict(monkeypatch, 1)
    assert single.ok and single.head_hash == verdict.head_hash


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "problem"),
    [
        (lambda: _edit_body(45), 45, "edited"),  # inside the second range
        (lambda: _edit_body(30), 30, "edited"),  # last record of a range: seen at the boundary
        (lambda: _edit_body(31), 31, "edited"),  # first record of a range
        (lambda: _edit_body(30, recompute_digest=True), 31, "does not chain"),
        (lambda: _edit_body(RECORDS), RECORDS, "edited"),  # the head: only its seal tells
        (lambda: _tamper("DELETE FROM events WHERE seq = 31"), 31, "missing"),
        (lambda: _tamper("DELETE FROM events WHERE seq BETWEEN 31 AND 60"), 31, "missing"),
        (lambda: _tamper("DELETE FROM events WHERE seq = 75"), 75, "missing"),
        (lambda: _tamper(_REPLACE, '"id":"sb-0001"', '"id":"other"', 61), 61, "edited"),  # index follows
        (lambda: _tamper(_REPLACE, '"type":"exit"', '"type":"start"', 89), 89, "edited"),
        (lambda: _tamper("UPDATE events SET seq = 1000 WHERE seq = 40"), 40, "missing"),
    ],
)
def test_parallel_and_single_walks_agree(
    filled: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
    tamper: Callable[[], None],
    bad_seq: int,
    problem: str,
) -> None:
    filled(RECORDS)
    tamper()
    for workers in (3, 1):
        verdict = _verdict(monkeypatch, workers)
        assert not verdict.ok, workers
        assert verdict.bad_seq == bad_seq, (workers, verdict.line())
        assert problem in verdict.problem, (workers, verdict.line())


def test_reordered_ranges_are_found(filled: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> None:
    filled(RECORDS)
    conn = sqlite3.connect(paths.audit_db(), isolation_level=None)
    try:
        conn.execute("BEGIN")  # the second and third ranges change places
        conn.execute("UPDATE events SET seq = -seq WHERE seq BETWEEN 31 AND 60")
        conn.execute("UPDATE events SET seq = seq - 30 WHERE seq BETWEEN 61 AND 90")
        conn.execute("UPDATE events SET seq = 30 - seq WHERE seq < 0")
        conn.execute("COMMIT")
    finally:
        conn.close()
    for workers in (3, 1):
        verdict = _verdict(monkeypatch, workers)
        assert not verdict.ok and verdict.bad_seq == 31 and "reordered" in verdict.problem, verdict.line()


def test_checkpoints_are_compared_in_every_range(
    filled: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    filled(RECORDS)
    _tamper("INSERT INTO checkpoints VALUES (50, ?, 1)", "ab" * 32)
    verdict = _verdict(monkeypatch, 3)
    assert not verdict.ok and verdict.bad_seq == 50 and "in-log checkpoint" in verdict.problem
