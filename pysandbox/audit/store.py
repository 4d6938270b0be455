"""The SQLite event store: one database in PYSANDBOX_HOME shared by every sandbox process.

Each row keeps the record's canonical bytes (`body`) and their digest, plus copies of time, type
and sandbox id for the indexes. `verify` checks those copies against the body's fixed prefix in
one SQL scan (string operations only: generated columns through json_extract halved the append
rate). Appends run under `BEGIN IMMEDIATE`, which serializes writers across processes so that
seq and prev are read and written in one step; other writers wait in SQLite's busy handler.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from pysandbox import paths
from pysandbox.audit.chain import ALG_HMAC, ALG_SHA256, GENESIS, Hasher, canonical_body
from pysandbox.types import UserError

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 60.0
CHECKPOINT_EVERY = 1000  # an in-database checkpoint row each time seq crosses a multiple of this

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    digest TEXT NOT NULL,  -- hex, as `prev` quotes it: the link check compares text
    time_ns INTEGER NOT NULL,
    type TEXT NOT NULL,
    sandbox_id TEXT
);
CREATE INDEX IF NOT EXISTS events_by_sandbox ON events(sandbox_id);
CREATE INDEX IF NOT EXISTS events_by_type ON events(type);
CREATE INDEX IF NOT EXISTS events_by_time ON events(time_ns);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, time_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sink_cursors (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


class Pending:
    """An event as the recorder captured it, before the store gives it a seq and a place in the chain.
    (Plain classes here, not dataclasses: this module is on the `run` fast path.)"""

    __slots__ = ("fields_text", "profile", "sandbox_id", "sandbox_name", "time_ns", "type", "user")

    def __init__(
        self,
        time_ns: int,
        type: str,
        sandbox_id: str | None,
        sandbox_name: str | None,
        user: str,
        profile: str | None,
        fields_text: str,
    ) -> None:
        self.time_ns, self.type, self.fields_text = time_ns, type, fields_text
        self.sandbox_id, self.sandbox_name, self.user, self.profile = sandbox_id, sandbox_name, user, profile


class Stored:
    __slots__ = ("body", "seq")

    def __init__(self, seq: int, body: str) -> None:
        self.seq, self.body = seq, body


class Store:
    def __init__(self, path: Path | None = None, key: bytes | None = None, create: bool = True) -> None:
        """create: a writer, which creates the log and must hold its key; readers (log, verify,
        the forwarder) neither create it nor need the key."""
        self.path = path or paths.audit_db()
        self.hasher = Hasher(key, light=create)
        self.create = create
        self._conn: sqlite3.Connection | None = None
        self._sync: str | None = None

    # -- connection ------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def ready(self) -> bool:
        """The log exists and has its tables (a reader may look while the first writer creates it)."""
        if not self.path.exists():
            return False
        return bool(self.conn().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION)

    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        try:
            if self.create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # created 0600 before SQLite opens it; the -wal and -shm files copy the mode
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            elif not self.path.exists():
                raise UserError(f"no audit log at {self.path}: run a sandbox first, or check PYSANDBOX_HOME")
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise UserError(
                f"cannot open the audit log {self.path}: {exc}: check PYSANDBOX_HOME and its permissions"
            ) from None
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if self.create and version != SCHEMA_VERSION:
                self._create_schema(conn)
            elif not self.create and version not in (0, SCHEMA_VERSION):
                raise UserError(
                    f"{self.path} has audit schema {version}, this pysandbox knows "
                    f"{SCHEMA_VERSION}: use a matching pysandbox version"
                )
            if self.create:
                self._check_key(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise UserError(f"{self.path} is not a usable audit log ({exc}): move it aside") from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [
                        ("alg", self.hasher.alg),
                        ("key_check", self.hasher.key_check()),
                        ("created_ns", str(time.time_ns())),
                    ],
                )
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise UserError(
                    f"{self.path} has audit schema {version}, this pysandbox knows "
                    f"{SCHEMA_VERSION}: use a matching pysandbox version"
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def meta(self) -> dict[str, str]:
        return dict(self.conn().execute("SELECT key, value FROM meta").fetchall())

    def _check_key(self, conn: sqlite3.Connection) -> None:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        alg = meta.get("alg", ALG_SHA256)
        if alg == ALG_HMAC and self.hasher.alg != ALG_HMAC:
            raise UserError(f"the audit log {self.path} is keyed: set PYSANDBOX_AUDIT_KEY to its key")
        if alg != ALG_HMAC and self.hasher.alg == ALG_HMAC:
            raise UserError(
                f"the audit log {self.path} is not keyed but PYSANDBOX_AUDIT_KEY is set: unset it, "
                "or start a new log"
            )
        if alg == ALG_HMAC and meta.get("key_check") != self.hasher.key_check():
            raise UserError(
                f"PYSANDBOX_AUDIT_KEY is not the key of the audit log {self.path}: set the right key"
            )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _synchronous(self, durable: bool) -> None:
        # FULL fsyncs the WAL at commit; NORMAL survives a crashed process (not a power cut)
        mode = "FULL" if durable else "NORMAL"
        if self._sync != mode:
            self.conn().execute(f"PRAGMA synchronous={mode}")
            self._sync = mode

    # -- writing ---------------------------------------------------------------------------------

    def append(
        self, events: Sequence[Pending], durable: bool, queued_sinks: Sequence[str] = ()
    ) -> list[Stored]:
        """Give the events their seq and chain digest and commit them; fsync'd when durable.

        queued_sinks: sinks that deliver from the store; a sink seen for the first time starts
        with these events rather than with the whole history.
        """
        if not events:
            return []
        conn = self.conn()
        self._synchronous(durable)
        if self.hasher.light and len(events) > 32:  # a bulk writer: OpenSSL's SHA-256 pays off
            self.hasher = Hasher(self.hasher.key)
        digest = self.hasher.digest
        conn.execute("BEGIN IMMEDIATE")
        try:
            last_seq, prev = self._head(conn)
            rows = []
            stored = []
            for seq, ev in enumerate(events, last_seq + 1):
                body = canonical_body(
                    seq,
                    prev,
                    ev.time_ns,
                    ev.type,
                    ev.sandbox_id,
                    ev.sandbox_name,
                    ev.user,
                    ev.profile,
                    ev.fields_text,
                )
                prev = digest(body.encode()).hex()
                rows.append((seq, body, prev, ev.time_ns, ev.type, ev.sandbox_id))
                stored.append(Stored(seq, body))
            conn.executemany(
                "INSERT INTO events (seq, body, digest, time_ns, type, sandbox_id) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            first, last = last_seq + 1, last_seq + len(events)
            marks = [
                (s, rows[s - first][2], time.time_ns()) for s in _multiples(first, last, CHECKPOINT_EVERY)
            ]
            if marks:
                conn.executemany("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?)", marks)
            if queued_sinks:
                conn.executemany(
                    "INSERT OR IGNORE INTO sink_cursors VALUES (?, ?)",
                    [(key, first - 1) for key in queued_sinks],
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return stored

    @staticmethod
    def _head(conn: sqlite3.Connection) -> tuple[int, str]:
        row = conn.execute("SELECT seq, digest FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        issued = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        last, prev = (row[0], str(row[1])) if row else (0, GENESIS)
        # after a truncation, keep counting from the highest seq ever issued: the gap stays visible
        return max(last, issued[0] if issued else 0), prev

    # -- reading ---------------------------------------------------------------------------------

    def head(self) -> tuple[int, str, int]:
        """(last seq, its digest in hex, number of records)."""
        conn = self.conn()
        row = conn.execute("SELECT seq, digest FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        return (row[0], str(row[1]), count) if row else (0, GENESIS, 0)

    def chain_rows(self) -> Iterator[list[tuple[int, bytes, str]]]:
        """Batches of (seq, canonical bytes, hex digest) in seq order: the verify loop."""
        cur = self.conn().cursor()
        cur.row_factory = None
        cur.execute("SELECT seq, CAST(body AS BLOB), digest FROM events ORDER BY seq")
        while batch := cur.fetchmany(4096):
            yield batch

    def first_structural_problem(self) -> tuple[int, str] | None:
        """(first bad seq, problem key of chain.PROBLEMS) over what needs no hashing: gaps, each
        body's seq and prev against its position and the previous row's stored digest, and the
        indexed copies of time, type and sandbox id against the body. One SQL scan, in C."""
        suspect = self.conn().execute(_FIRST_SUSPECT).fetchone()
        if suspect is None:
            return None
        seq, problem, missing = self.conn().execute(_DIAGNOSE, (suspect[0],)).fetchone()
        return (int(missing), "gap") if problem == "gap" else (int(seq), str(problem))

    def digests_at(self, seqs: Sequence[int]) -> dict[int, str]:
        marks = ",".join(str(int(s)) for s in seqs)
        rows = self.conn().execute(f"SELECT seq, digest FROM events WHERE seq IN ({marks})").fetchall()
        return {int(seq): str(d) for seq, d in rows}

    def max_issued(self) -> int:
        row = self.conn().execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return int(row[0]) if row else 0

    def checkpoints(self) -> dict[int, str]:
        return dict(self.conn().execute("SELECT seq, digest FROM checkpoints").fetchall())

    def query(
        self, where: str = "", params: Sequence[object] = (), order: str = "ASC", limit: int | None = None
    ) -> list[Stored]:
        sql = f"SELECT seq, body FROM events {('WHERE ' + where) if where else ''} ORDER BY seq {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [Stored(seq, body) for seq, body in self.conn().execute(sql, tuple(params))]

    # -- sink cursors (the store is the spool of the queued sinks) -----------------------------------

    def cursor_of(self, sink: str) -> int | None:
        row = self.conn().execute("SELECT seq FROM sink_cursors WHERE sink = ?", (sink,)).fetchone()
        return int(row[0]) if row else None

    def set_cursor(self, sink: str, seq: int) -> None:
        self._synchronous(False)
        self.conn().execute(
            "INSERT INTO sink_cursors VALUES (?, ?) ON CONFLICT(sink) DO UPDATE SET seq = "
            "max(seq, excluded.seq)",
            (sink, seq),
        )


# The body starts `{"seq":N,` (8 characters + the digits of N), then `"prev":"<64 hex>",` (74),
# then `"time":T,"type":"X","sandbox":{"id":I,`. Sandbox ids never need JSON escaping (the
# recorder refuses such ids), so the copies compare as plain text.
_EXPECTED_COLUMNS = (
    """'"time":' || e.time_ns || ',"type":"' || e.type || '","sandbox":{"id":' """
    """|| CASE WHEN e.sandbox_id IS NULL THEN 'null' ELSE '"' || e.sandbox_id || '"' END || ','"""
)
_EXPECTED_PREFIX = (
    f"""'{{"seq":' || e.seq || ',"prev":"' """
    f"""|| iif(p.seq IS NULL, '{GENESIS}', p.digest) || '",' || {_EXPECTED_COLUMNS}"""
)
_FIRST_SUSPECT = f"""
SELECT e.seq FROM events AS e LEFT JOIN events AS p ON p.seq = e.seq - 1
WHERE (p.seq IS NULL AND e.seq != 1)
   OR typeof(e.time_ns) != 'integer' OR typeof(e.type) != 'text'
   OR typeof(e.sandbox_id) NOT IN ('text', 'null')
   OR instr(e.body, {_EXPECTED_PREFIX}) IS NOT 1
ORDER BY e.seq LIMIT 1
"""
_DIAGNOSE = f"""
SELECT seq, problem, missing FROM (
    SELECT e.seq AS seq,
        CASE
            WHEN p.seq IS NULL AND e.seq != 1 THEN 'gap'
            WHEN substr(e.body, 1, 8 + length(e.seq)) IS NOT '{{"seq":' || e.seq || ',' THEN 'seq'
            WHEN substr(e.body, 9 + length(e.seq), 74)
                 IS NOT '"prev":"' || iif(p.seq IS NULL, '{GENESIS}', p.digest) || '",'
                 THEN 'link'
            WHEN typeof(e.time_ns) != 'integer' OR typeof(e.type) != 'text'
                 OR typeof(e.sandbox_id) NOT IN ('text', 'null')
                 OR substr(e.body, 83 + length(e.seq), length({_EXPECTED_COLUMNS})) IS NOT {_EXPECTED_COLUMNS}
                 THEN 'columns'
        END AS problem,
        iif(p.seq IS NULL, coalesce((SELECT max(seq) FROM events WHERE seq < e.seq), 0) + 1, NULL) AS missing
    FROM events AS e LEFT JOIN events AS p ON p.seq = e.seq - 1 WHERE e.seq = ?
)
"""


def _multiples(first: int, last: int, step: int) -> range:
    return range(-(-first // step) * step, last + 1, step)
