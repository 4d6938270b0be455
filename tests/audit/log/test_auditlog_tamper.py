"""`audit verify` finds every kind of tampering done directly in SQLite, at the first bad seq."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from pysandbox.audit.store import CHECKPOINT_EVERY

Connect = Callable[[], sqlite3.Connection]


def _verify_fails_at(
    audit: Callable[..., object], seq: int, *args: str, env: dict[str, str] | None = None
) -> str:
    proc = audit("verify", *args, env=env)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)  # type: ignore[attr-defined]
    lines = proc.stdout.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    assert re.match(rf"^audit log tampered at seq {seq}: ", lines[0]), lines[0]
    return str(lines[0])


def _edited(body: str) -> str:
    edited = re.sub(r'"status":\d+', '"status":999', body)
    assert edited != body
    return edited


def _body(conn: sqlite3.Connection, seq: int) -> str:
    return str(conn.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()[0])


def test_intact_log_verifies(audit, filled) -> None:
    filled(50)
    proc = audit("verify")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: 50 events verified (seq 1..50), head ")


def test_edited_field_is_found_at_its_seq(audit, filled, raw_db: Connect) -> None:
    filled(40)
    conn = raw_db()
    body = _edited(_body(conn, 17))
    conn.execute("UPDATE events SET body = ? WHERE seq = 17", (body,))
    assert "edited" in _verify_fails_at(audit, 17)


def test_edit_with_recomputed_digest_breaks_the_link_to_the_next_record(
    audit, filled, raw_db: Connect
) -> None:
    filled(40)
    conn = raw_db()
    body = _edited(_body(conn, 17))
    conn.execute(
        "UPDATE events SET body = ?, digest = ? WHERE seq = 17",
        (body, hashlib.sha256(body.encode()).hexdigest()),
    )
    assert "does not chain" in _verify_fails_at(audit, 18)


def test_deleted_record_is_found(audit, filled, raw_db: Connect) -> None:
    filled(40)
    raw_db().execute("DELETE FROM events WHERE seq = 23")
    assert "missing" in _verify_fails_at(audit, 23)


def test_reordered_records_are_found(audit, filled, raw_db: Connect) -> None:
    filled(40)
    conn = raw_db()
    conn.execute("BEGIN")
    conn.execute("UPDATE events SET seq = -1 WHERE seq = 10")
    conn.execute("UPDATE events SET seq = 10 WHERE seq = 11")
    conn.execute("UPDATE events SET seq = 11 WHERE seq = -1")
    conn.execute("COMMIT")
    assert "reordered" in _verify_fails_at(audit, 10)


def test_swapped_contents_are_found(audit, filled, raw_db: Connect) -> None:
    filled(40)
    conn = raw_db()
    (b10, d10), (b11, d11) = conn.execute(
        "SELECT body, digest FROM events WHERE seq IN (10, 11) ORDER BY seq"
    )
    conn.execute("UPDATE events SET body = ?, digest = ? WHERE seq = 10", (b11, d11))
    conn.execute("UPDATE events SET body = ?, digest = ? WHERE seq = 11", (b10, d10))
    _verify_fails_at(audit, 10)


def test_truncated_tail_is_found_from_the_issued_sequence(audit, filled, raw_db: Connect) -> None:
    filled(40)
    raw_db().execute("DELETE FROM events WHERE seq > 30")
    assert "truncated" in _verify_fails_at(audit, 31)


def test_truncation_hidden_in_the_database_is_found_with_a_checkpoint(
    audit, filled, raw_db: Connect, tmp_path: Path
) -> None:
    filled(40)
    cp = tmp_path / "cp.json"
    assert audit("checkpoint", "-o", str(cp)).returncode == 0
    conn = raw_db()
    conn.execute("DELETE FROM events WHERE seq > 30")
    conn.execute("UPDATE sqlite_sequence SET seq = 30 WHERE name = 'events'")
    assert audit("verify").returncode == 0  # nothing left inside the file tells
    line = _verify_fails_at(audit, 31, "--checkpoint", str(cp))
    assert "truncated" in line and str(cp) in line


def test_new_records_after_a_truncation_leave_a_visible_gap(audit, filled, raw_db: Connect) -> None:
    filled(40)
    raw_db().execute("DELETE FROM events WHERE seq > 30")
    filled(5, sandbox="sb-0002")
    assert "missing" in _verify_fails_at(audit, 31)


def _forge(
    conn: sqlite3.Connection, seq: int, prev: str, digest: Callable[[bytes], str] | None = None
) -> None:
    body = (
        f'{{"seq":{seq},"prev":"{prev}","time":1,"type":"exit","sandbox":{{"id":"sb-0001","name":"web"}},'
        f'"user":"root","profile":"strict","fields":{{"signal":null,"status":0}}}}'
    )
    sign = digest or (lambda b: hashlib.sha256(b).hexdigest())
    conn.execute("INSERT INTO events (seq, body, digest) VALUES (?, ?, ?)", (seq, body, sign(body.encode())))


def test_appended_forged_row_with_a_wrong_link_is_found(audit, filled, raw_db: Connect) -> None:
    filled(20)
    _forge(raw_db(), 21, "ab" * 32)
    assert "does not chain" in _verify_fails_at(audit, 21)


def test_appended_forged_row_without_the_key_is_found(audit, raw_db: Connect, monkeypatch) -> None:
    monkeypatch.setenv("PYSANDBOX_AUDIT_KEY", "s3cret-key")
    from pysandbox.audit.recorder import Recorder

    with Recorder("sb-k", "keyed", "strict") as rec:
        for i in range(10):
            rec.event("exit", status=i, signal=None)
    conn = raw_db()
    head = str(conn.execute("SELECT digest FROM events WHERE seq = 10").fetchone()[0])
    _forge(conn, 11, head)  # chained correctly, but with plain SHA-256: the forger lacks the key
    assert "edited or forged" in _verify_fails_at(audit, 11)


def test_rewritten_history_is_found_with_a_checkpoint(audit, filled, raw_db: Connect, tmp_path: Path) -> None:
    filled(30)
    cp = tmp_path / "cp.json"
    assert audit("checkpoint", "-o", str(cp)).returncode == 0
    filled(5, sandbox="sb-0002")
    conn = raw_db()
    rows = conn.execute("SELECT seq, body FROM events ORDER BY seq").fetchall()
    prev = "0" * 64
    conn.execute("BEGIN")
    for seq, body in rows:  # rewrite seq 12 and recompute the whole chain after it, as a forger would
        rec = json.loads(body)
        if seq == 12:
            rec["fields"]["status"] = 99
        text = _canonical(rec, prev)
        digest = hashlib.sha256(text.encode()).hexdigest()
        conn.execute("UPDATE events SET body = ?, digest = ? WHERE seq = ?", (text, digest, seq))
        prev = digest
    conn.execute("DELETE FROM checkpoints")
    conn.execute("COMMIT")
    assert audit("verify").returncode == 0  # a consistent forgery: only an outside checkpoint catches it
    line = _verify_fails_at(audit, 30, "--checkpoint", str(cp))
    assert "rewritten" in line


def _canonical(rec: dict[str, object], prev: str) -> str:
    fields = json.dumps(rec["fields"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    env = {k: rec[k] for k in ("time", "type", "sandbox", "user", "profile")}
    head = json.dumps({"seq": rec["seq"], "prev": prev, **env}, separators=(",", ":"), ensure_ascii=False)
    return head[:-1] + f',"fields":{fields}}}'


def test_canonical_form_is_the_documented_json(filled, raw_db: Connect) -> None:
    filled(5)
    rows = raw_db().execute("SELECT body, digest FROM events ORDER BY seq").fetchall()
    prev = "0" * 64
    for body, digest in rows:
        assert _canonical(json.loads(body), prev) == body
        assert hashlib.sha256(body.encode()).hexdigest() == digest
        prev = digest


def test_in_log_checkpoints_pin_the_chain(audit, filled, raw_db: Connect) -> None:
    filled(CHECKPOINT_EVERY + 10)
    conn = raw_db()
    assert conn.execute("SELECT seq FROM checkpoints").fetchall() == [(CHECKPOINT_EVERY,)]
    conn.execute("UPDATE checkpoints SET digest = ?", ("00" * 32,))
    assert "in-log checkpoint" in _verify_fails_at(audit, CHECKPOINT_EVERY)


def test_keyed_log_needs_its_key(audit, filled, monkeypatch) -> None:
    monkeypatch.setenv("PYSANDBOX_AUDIT_KEY", "right-key")
    filled(10)
    assert audit("verify").returncode == 0
    for env in ({"PYSANDBOX_AUDIT_KEY": ""}, {"PYSANDBOX_AUDIT_KEY": "wrong-key"}):
        proc = audit("verify", env=env)
        assert proc.returncode == 2
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("pysandbox: error: ")
        assert "PYSANDBOX_AUDIT_KEY" in proc.stderr


def test_unkeyed_chain_does_not_pass_when_a_key_is_expected(audit, filled) -> None:
    filled(10)
    _verify_fails_at(audit, 1, env={"PYSANDBOX_AUDIT_KEY": "k"})


def test_keyed_writer_refuses_a_log_with_another_key(filled, monkeypatch) -> None:
    from pysandbox.types import UserError

    monkeypatch.setenv("PYSANDBOX_AUDIT_KEY", "one")
    filled(3)
    monkeypatch.setenv("PYSANDBOX_AUDIT_KEY", "two")
    with pytest.raises(UserError, match="not the key"):
        filled(3)


def test_bad_checkpoint_file_is_a_usage_error(audit, filled, tmp_path: Path) -> None:
    filled(3)
    bad = tmp_path / "cp.json"
    for text in ("not json", '{"format": "something-else"}', '{"format": "pysandbox-audit-checkpoint"}'):
        bad.write_text(text)
        proc = audit("verify", "--checkpoint", str(bad))
        assert proc.returncode == 2, proc.stdout
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("pysandbox: error: ")
    proc = audit("verify", "--checkpoint", str(tmp_path / "missing.json"))
    assert proc.returncode == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("seq", 1.5, "not a checkpoint: `seq` 1.5 is not an integer"),
        ("seq", True, "not a checkpoint: `seq` true is not an integer"),
        ("seq", -1, "not a checkpoint: `seq` -1 is out of range 0..9223372036854775807"),
        ("seq", 2**64, f"not a checkpoint: `seq` {2**64} is out of range"),
        ("count", "3", 'not a checkpoint: `count` "3" is not an integer'),
        ("time_ns", None, "not a checkpoint: `time_ns` null is not an integer"),
        ("alg", ["sha256"], 'not a checkpoint: `alg` ["sha256"] is not a string'),
        ("version", 99, "checkpoint version 99: only version 1 is supported"),
        ("version", True, "checkpoint version true: only version 1 is supported"),
        ("version", "missing", "checkpoint has no version: only version 1 is supported"),
    ],
)
def test_malformed_checkpoint_is_refused_not_reported_as_tampering(
    audit, filled, tmp_path: Path, field: str, value: object, message: str
) -> None:
    filled(3)
    good = tmp_path / "good.json"
    assert audit("checkpoint", "-o", str(good)).returncode == 0
    data = json.loads(good.read_text())
    if value == "missing":
        del data[field]
    else:
        data[field] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    proc = audit("verify", "--checkpoint", str(bad))
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert proc.stderr.startswith(f"pysandbox: error: {bad}: {message}"), proc.stderr
    assert proc.stderr.endswith(": pass a file written by `pysandbox audit checkpoint -o FILE`\n")
    assert proc.stderr.count("\n") == 1
    assert audit("verify", "--checkpoint", str(good)).returncode == 0


def test_a_device_given_as_a_checkpoint_is_refused_not_read_forever(audit, filled) -> None:
    filled(3)
    proc = audit("verify", "--checkpoint", "/dev/zero")
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert proc.stderr == (
        "pysandbox: error: checkpoint /dev/zero is larger than 1 MiB: "
        "pass a file written by `pysandbox audit checkpoint -o FILE`\n"
    )


@pytest.mark.parametrize(
    ("column", "value"),
    [("type", "start"), ("sandbox_id", "someone-else"), ("sandbox_id", None), ("time_ns", 1)],
)
def test_index_columns_cannot_be_edited_apart_from_the_record(
    audit, filled, raw_db: Connect, column: str, value: object
) -> None:
    filled(30)
    conn = raw_db()
    with pytest.raises(sqlite3.OperationalError, match="generated column"):
        conn.execute(f"UPDATE events SET {column} = ? WHERE seq = 21", (value,))
    with pytest.raises(sqlite3.OperationalError, match="generated column"):
        conn.execute(f"INSERT INTO events (seq, body, digest, {column}) VALUES (31, '{{}}', '', ?)", (value,))
    with pytest.raises(sqlite3.OperationalError, match="malformed JSON"):  # the index needs a value
        conn.execute("UPDATE events SET body = 'not json' WHERE seq = 21")
    assert audit("verify").returncode == 0


def test_index_columns_follow_an_edited_record(audit, filled, raw_db: Connect) -> None:
    filled(30)
    filled(5, sandbox="sb-0002", name="db")
    conn = raw_db()
    body = _body(conn, 21)
    edited = body.replace('"type":"exit"', '"type":"oom_kill"').replace('"id":"sb-0001"', '"id":"sb-0009"')
    edited = re.sub(r'"time":\d+', '"time":1', edited)
    assert edited.count('"oom_kill"') == edited.count('"sb-0009"') == 1 and '"time":1,' in edited
    conn.execute("UPDATE events SET body = ? WHERE seq = 21", (edited,))
    assert conn.execute("SELECT time_ns, type, sandbox_id FROM events WHERE seq = 21").fetchone() == (
        1,
        "oom_kill",
        "sb-0009",
    )
    plan = " ".join(
        str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM events WHERE type = 'exit'")
    )
    assert "events_by_type" in plan

    def seqs(*args: str) -> list[int]:
        proc = audit("log", *args, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        return [e["seq"] for e in json.loads(proc.stdout)]

    assert seqs("--type", "oom_kill") == [21]
    assert 21 not in seqs("--type", "exit") and len(seqs("--type", "exit")) == 30 - 2 - 1 + 3
    assert seqs("--sandbox", "sb-0009") == [21]
    assert 21 not in seqs("--sandbox", "sb-0001") and seqs("--sandbox", "sb-0002") == list(range(31, 36))
    assert 21 not in seqs("--since", "1h") and len(seqs("--since", "1h")) == 34
    assert "edited" in _verify_fails_at(audit, 21)


def test_a_log_of_another_schema_is_refused_in_one_line(audit, filled, raw_db: Connect) -> None:
    from pysandbox.audit.recorder import Recorder
    from pysandbox.types import SandboxError, UserError

    filled(3)
    raw_db().execute("PRAGMA user_version=3")  # written by a newer pysandbox (1 is upgraded in place)
    proc = audit("verify")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "has audit schema 3, this pysandbox knows 2" in proc.stderr
    with (
        pytest.raises((UserError, SandboxError), match="audit schema 3"),
        Recorder("sb-x", "x", "strict") as rec,
    ):
        rec.event("start", durable=True, pid=1)


def test_the_first_problem_wins(audit, filled, raw_db: Connect) -> None:
    filled(30)
    conn = raw_db()
    conn.execute("UPDATE events SET body = ? WHERE seq = 25", (_edited(_body(conn, 25)),))
    conn.execute("DELETE FROM events WHERE seq = 12")
    assert "missing" in _verify_fails_at(audit, 12)
