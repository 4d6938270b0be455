"""The SQLite event store: one database in PYSANDBOX_HOME shared by every sandbox process.

Each row keeps the record's canonical bytes (`body`) and their digest; time, type and sandbox id
are generated columns, extracted from the body, for the indexes: they cannot differ from the
record, so `verify` reads the body alone. Appends run under
`BEGIN IMMEDIATE`, which serializes writers across processes so that seq and prev are read and
written in one step; other writers wait in SQLite's busy handler. Rows go in by multi-row
INSERTs, and everything under the write lock is the chain loop and the insert.

Durability: a commit is fsync'd before `append(wait=True)` returns. The connection runs with
`synchronous=NORMAL` (no fsync inside COMMIT) and `append` then fdatasyncs the WAL itself, after
the write lock is released: the commit frames are on disk before anyone is told, exactly as with
`synchronous=FULL`, but concurrent writers overlap their fsyncs instead of queueing behind them,
and one fsync covers the frames of every commit before it (group commit). `append(wait=False)`
returns once the commit is in the WAL (a kill -9 of the writer loses nothing) and leaves the fsync
to a background thread or to the next waiting append or close.
"""

from __future__ import annotations

import os
import sys
import time
from _operator import itemgetter  # operator is _operator plus ~0.3 ms of pure-Python aliases
from _thread import allocate_lock
from itertools import chain

from pysandbox import paths
from pysandbox.audit.chain import ALG_HMAC, ALG_SHA256, GENESIS, Hasher, envelope_tail
from pysandbox.types import UserError


def _sqlite_core() -> Any:
    """_sqlite3, sqlite3's C core: the package adds only datetime adapters (and imports datetime
    and collections for them, ~4 ms that every `pysandbox run` with an audit log would pay).

    The core's init takes functools.lru_cache for its statement cache, and functools imports
    collections, reprlib and more: another ~2.5 ms. Until something else loads functools, the
    init gets a stand-in whose lru_cache builds the very same C cache
    (_functools._lru_cache_wrapper, which lru_cache wraps), gone from sys.modules right after.
    Only in a single-threaded process: a thread that imported functools meanwhile would get the
    stand-in (a sys.modules look-up takes no lock).
    """
    if "functools" in sys.modules or "_sqlite3" in sys.modules or _thread_count() != 1:
        import _sqlite3

        return _sqlite3
    from _functools import _lru_cache_wrapper

    stand_in = type(sys)("functools")
    stand_in.lru_cache = lambda maxsize: lambda f: _lru_cache_wrapper(f, maxsize, False, tuple)  # type: ignore[attr-defined]
    sys.modules["functools"] = stand_in
    try:
        import _sqlite3
    except Exception:  # a core that wants more of functools than lru_cache
        del sys.modules["functools"]
        import _sqlite3  # with the real one
    finally:
        if sys.modules.get("functools") is stand_in:
            del sys.modules["functools"]
    return _sqlite3


def _thread_count() -> int:
    """The launcher's own count (the kernel's: a thread just started is in it), loaded by then on
    the `run` path."""
    from pysandbox.sandbox.libc import thread_count

    return thread_count()


TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    import sqlite3
    import threading
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path
    from typing import Any
else:
    sqlite3 = _sqlite_core()

SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 60.0
CHECKPOINT_EVERY = 1000  # an in-database checkpoint row each time seq crosses a multiple of this
# rows per fetch while verifying: a batch of bodies stays in the CPU cache from the read to the
# hash (256 walks ~10% faster than 4096)
READ_BATCH = 256
# verify reads the log through a memory map: no read() and page copy per 4 KiB page (~10% of
# a scan). SQLite clamps this to its compile-time maximum (2 GiB by default).
READ_MMAP_BYTES = 1 << 31
# The first process to open the log rebuilds SQLite's WAL index by reading the whole WAL (~1.7 us
# a frame here): at SQLite's default checkpoint threshold (1000 pages) that cost every `pysandbox
# run` up to ~1.7 ms before its first commit (~0.85 ms on average). A commit that takes the WAL past
# this many pages checkpoints it instead (~1.2 ms, about every 23 launches), and SQLite then starts
# the WAL over, in place: the file keeps its size, so a commit's fdatasync has no size to update.
WAL_CHECKPOINT_PAGES = 256
BULK_WAL_CHECKPOINT_PAGES = 1000  # SQLite's default, for writers of large batches (_become_bulk)
BULK_EVENTS = 32  # a batch larger than this makes its writer a bulk writer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    digest TEXT NOT NULL,  -- hex, as the next record's `prev` quotes it
    -- derived from the record, so the index entries cannot be edited apart from it
    time_ns INTEGER GENERATED ALWAYS AS (json_extract(body, '$.time')) VIRTUAL,
    type TEXT GENERATED ALWAYS AS (json_extract(body, '$.type')) VIRTUAL,
    sandbox_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.sandbox.id')) VIRTUAL
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
_INSERT = "INSERT INTO events (seq, body, digest) VALUES "
_INSERT_ROWS = 256  # rows per INSERT statement (3 parameters each)

# An event as the recorder captured it, before the store gives it a seq and a place in the chain:
# (time_ns, type, sandbox id, envelope tail (chain.envelope_tail), fields JSON). A plain tuple:
# the recorder makes one per event, on the `run` fast path.
Pending = tuple[int, str, str | None, str, str]


def pending(
    time_ns: int,
    type_name: str,
    sandbox_id: str | None,
    sandbox_name: str | None,
    user: str,
    profile: str | None,
    fields_text: str,
) -> Pending:
    tail = envelope_tail(type_name, sandbox_id, sandbox_name, user, profile)
    return (time_ns, type_name, sandbox_id, tail, fields_text)


# A row of the events table as written: (seq, body, digest).
Row = tuple[int, str, str]


class Stored:
    __slots__ = ("body", "seq")

    def __init__(self, seq: int, body: str) -> None:
        self.seq, self.body = seq, body


class Store:
    def __init__(self, path: str | Path | None = None, key: bytes | None = None, create: bool = True) -> None:
        """create: a writer, which creates the log and must hold its key; readers (log, verify,
        the forwarder) neither create it nor need the key."""
        self.path = os.fspath(path) if path is not None else paths.location(paths.AUDIT_DB)
        self.hasher = Hasher(key, light=create)
        self.create = create
        self._conn: sqlite3.Connection | None = None
        self._db_fd: int | None = None  # held while connected: see _fsync_wal
        self._wal_fd: int | None = None
        self._wal_ino = 0
        self._committed = 0  # commits made through this store...
        self._synced = 0  # ...and how many of them are known to be on disk
        self._sync_lock: threading.Lock | None = None
        self._write_lock = allocate_lock()
        self._sync_error: OSError | None = None
        self._syncer: _Syncer | None = None
        self._bulk = False  # _become_bulk

    # -- connection ------------------------------------------------------------------------------

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def is_current(self) -> bool:
        """Not connected yet, or connected to the file that is at `path` now (not one moved
        aside or replaced since) and still of our schema."""
        if self._db_fd is None or self._conn is None:
            return self._conn is None
        try:
            at_path, ours = os.stat(self.path), os.fstat(self._db_fd)
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except (OSError, sqlite3.Error):
            return False
        return (at_path.st_dev, at_path.st_ino) == (ours.st_dev, ours.st_ino) and version == SCHEMA_VERSION

    def ready(self) -> bool:
        """The log exists and has its tables (a reader may look while the first writer creates it)."""
        if not os.path.exists(self.path):
            return False
        return bool(self.conn().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION)

    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        try:
            if self.create:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                # created 0600 before SQLite opens it; the -wal and -shm files copy the mode
                self._db_fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            elif not os.path.exists(self.path):
                raise UserError(f"no audit log at {self.path}: run a sandbox first, or check PYSANDBOX_HOME")
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise UserError(
                f"cannot open the audit log {self.path}: {exc}: check PYSANDBOX_HOME and its permissions"
            ) from None
        try:
            self._retry_busy(lambda: self._setup(conn))
        except sqlite3.DatabaseError as exc:
            conn.close()
            self.close()
            if _is_busy(exc):
                raise UserError(
                    f"the audit log {self.path} stayed locked for {BUSY_TIMEOUT_S:.0f} s: find the "
                    "process that holds it"
                ) from None
            fix = _WRITE_FIXES.get(getattr(exc, "sqlite_errorname", ""))
            if fix is not None:  # the disk or its permissions, not the log
                raise UserError(f"cannot write the audit log {self.path}: {exc}: {fix}") from None
            raise UserError(f"{self.path} is not a usable audit log ({exc}): move it aside") from None
        except BaseException:
            conn.close()
            self.close()
            raise
        return conn

    def _setup(self, conn: sqlite3.Connection) -> None:
        # no fsync inside COMMIT: append fsyncs the WAL itself, outside the write lock
        conn.execute("PRAGMA synchronous=NORMAL")
        pages = BULK_WAL_CHECKPOINT_PAGES if self._bulk else WAL_CHECKPOINT_PAGES
        conn.execute(f"PRAGMA wal_autocheckpoint={pages}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 1:
            self._upgrade_v1(conn)
        elif self.create and version != SCHEMA_VERSION:
            self._create_schema(conn)
        elif not self.create and version not in (0, SCHEMA_VERSION):
            raise UserError(
                f"{self.path} has audit schema {version}, this pysandbox knows "
                f"{SCHEMA_VERSION}: use a matching pysandbox version"
            )
        if self.create:
            self._check_key(conn)

    @staticmethod
    def _retry_busy(step: Callable[[], None]) -> None:
        """Run step until SQLite stops answering "locked": while writers race to create the log
        (the switch to WAL, the first read of a new WAL index), SQLite can refuse at once rather
        than through the busy handler."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.001
        while True:
            try:
                return step()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode=WAL")
        self._change_schema(conn, self._fill_new_schema)

    def _fill_new_schema(self, conn: sqlite3.Connection, version: int) -> None:
        if version == 0:
            _execute_schema(conn)
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

    def _upgrade_v1(self, conn: sqlite3.Connection) -> None:
        """Schema 1 kept time, type and sandbox id as plain copies; schema 2 derives them from the
        body. The records, their digests and so the chain stay byte for byte what they were; the
        highest seq ever issued (truncation evidence) is carried over."""
        try:
            self._change_schema(conn, _upgrade_v1_tables)
        except sqlite3.Error as exc:
            raise UserError(
                f"cannot upgrade the audit log {self.path} from schema 1 ({exc}): open it once with "
                "write access (e.g. `pysandbox audit verify` as its owner), or verify it with the "
                "pysandbox that wrote it"
            ) from None

    def _change_schema(
        self, conn: sqlite3.Connection, change: Callable[[sqlite3.Connection, int], None]
    ) -> None:
        """`change(conn, version it finds)` in one write transaction (writers racing to create or
        upgrade the log see each other's work), then durable."""
        _write_transaction(conn, lambda: change(conn, conn.execute("PRAGMA user_version").fetchone()[0]))
        self._committed += 1
        self._sync()

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
        """Close, after making every commit durable (batches committed with wait=False)."""
        try:
            if self._syncer is not None:
                self._syncer.stop()
                self._syncer = None
            if self._committed > self._synced or self._sync_error is not None:
                self._sync()
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            # after the connection: closing any descriptor of the database file drops every
            # POSIX lock this process holds on it, SQLite's included
            for name in ("_db_fd", "_wal_fd"):
                fd = getattr(self, name)
                if fd is not None:
                    setattr(self, name, None)
                    os.close(fd)

    # -- writing ---------------------------------------------------------------------------------

    def append(
        self,
        events: Sequence[Pending],
        queued_sinks: Sequence[str] = (),
        wait: bool = True,
        background: bool = True,
    ) -> list[Row]:
        """Give the events their seq and chain digest, commit them and fsync the commit; the rows
        as stored.

        wait: return only once the commit is on disk (and every commit before it). Otherwise the
        commit is in the WAL (it survives a kill -9 of this process) and its fsync comes later:
        with background, from a thread that runs it while the caller goes on; without, from the
        next waiting append, `sync` or `close` (whichever comes first), or the kernel's writeback.
        queued_sinks: sinks that deliver from the store; a sink seen for the first time starts
        with these events rather than with the whole history.
        """
        if not events:
            return []
        with self._write_lock:  # one transaction at a time: threads share the process's writer
            rows = self._commit(events, queued_sinks)
        if wait:
            self._sync()
        elif background:
            if self._syncer is None:
                self._syncer = _Syncer(self._sync_quietly)
            self._syncer.request()
        return rows

    def _commit(self, events: Sequence[Pending], queued_sinks: Sequence[str]) -> list[Row]:
        conn = self.conn()
        if len(events) > BULK_EVENTS and not self._bulk:
            self._become_bulk(conn)
        rows: list[Row] = []

        def append() -> None:
            last_seq, prev = self._head(conn)
            rows[:] = _chain(events, last_seq, prev, self.hasher)
            seq = last_seq + len(rows)
            _insert(conn, rows)
            first = last_seq + 1
            marks = [
                (s, rows[s - first][2], time.time_ns()) for s in _multiples(first, seq, CHECKPOINT_EVERY)
            ]
            if marks:
                conn.executemany("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?)", marks)
            if queued_sinks:
                conn.executemany(
                    "INSERT OR IGNORE INTO sink_cursors VALUES (?, ?)",
                    [(key, first - 1) for key in queued_sinks],
                )

        _write_transaction(conn, append)
        self._committed += 1
        return rows

    def _become_bulk(self, conn: sqlite3.Connection) -> None:
        """A writer of large batches: OpenSSL's SHA-256 pays off, and the WAL it fills so fast is
        left to SQLite's own checkpoint threshold (fewer checkpoints; each opener of the log then
        reads it at most once per ~1000 pages of events, not per launch)."""
        self._bulk = True
        if self.hasher.light:
            self.hasher = Hasher(self.hasher.key)
        conn.execute(f"PRAGMA wal_autocheckpoint={BULK_WAL_CHECKPOINT_PAGES}")

    def sync(self) -> None:
        """Every commit made through this store on disk (those of wait=False appends included)."""
        self._sync()

    def _sync(self) -> None:
        """Every commit made so far on disk: fdatasync the WAL unless a sync that started after
        the last commit already did. A background sync's failure is raised here: after a failed
        fsync, a later one may succeed without the lost pages (Linux reports an error once)."""
        if self._sync_lock is None:
            self._sync_lock = allocate_lock()  # _thread's: the threading module is not needed here
        with self._sync_lock:
            if self._sync_error is not None:
                error, self._sync_error = self._sync_error, None
                raise error
            target = self._committed
            if self._synced < target:
                self._fsync_wal()
                self._synced = target

    def _sync_quietly(self) -> None:
        """The background syncer's call: a failure waits for the next _sync in the foreground."""
        try:
            self._sync()
        except OSError as exc:
            self._sync_error = exc

    def _fsync_wal(self) -> None:
        """fdatasync the WAL, which holds every commit not yet checkpointed into the database.

        The WAL stays the same file while this connection is open (SQLite deletes it only when
        the last connection closes); if it is gone anyway, a checkpoint has copied it into the
        database file, which is then the one to sync. A new WAL also needs its directory entry
        synced, once (_sync_entry_once).
        """
        wal = f"{self.path}-wal"
        try:
            ino = os.stat(wal).st_ino
        except FileNotFoundError:
            if self._db_fd is not None:  # never closed while connected (see close)
                os.fsync(self._db_fd)
            return
        if self._wal_fd is None or ino != self._wal_ino:
            if self._wal_fd is not None:
                os.close(self._wal_fd)
                self._wal_fd = None
            self._wal_fd = os.open(wal, os.O_RDONLY | os.O_CLOEXEC)
            self._wal_ino = os.fstat(self._wal_fd).st_ino
            _sync_entry_once(self._wal_fd, os.path.dirname(self.path))
        os.fdatasync(self._wal_fd)

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

    def bounds(self) -> tuple[int, int]:
        """(lowest seq, highest seq); (0, 0) when empty. Two b-tree descents, no scan."""
        lo, hi = self.conn().execute("SELECT min(seq), max(seq) FROM events").fetchone()
        return (0, 0) if lo is None else (int(lo), int(hi))

    def records(self, lo: int, hi: int) -> Iterator[list[bytes]]:
        """Batches of canonical bytes, seq lo..hi in order: what verify reads (chain.walk_chain)."""
        conn = self.conn()
        conn.execute(f"PRAGMA mmap_size={READ_MMAP_BYTES}").fetchall()
        cur = conn.cursor()
        cur.execute(_RECORDS, (lo, hi))
        while batch := cur.fetchmany(READ_BATCH):
            yield list(map(_FIRST, batch))

    def record(self, seq: int) -> tuple[bytes, str] | None:
        """(canonical bytes, stored digest) of one record."""
        row = (
            self.conn()
            .execute("SELECT CAST(body AS BLOB), digest FROM events WHERE seq = ?", (seq,))
            .fetchone()
        )
        return None if row is None else (bytes(row[0]), str(row[1]))

    def first_gap(self, lo: int, hi: int) -> int | None:
        """The first missing seq between 1 and hi; asked only when a walk came up short or broke
        (an index lookup per record)."""
        if lo > 1:
            return 1
        row = self.conn().execute(_FIRST_GAP, (hi,)).fetchone()
        return int(row[0]) if row else None

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
        # not fsync'd: after a crash a sink is sent a few events twice rather than missing any
        self.conn().execute(
            "INSERT INTO sink_cursors VALUES (?, ?) ON CONFLICT(sink) DO UPDATE SET seq = "
            "max(seq, excluded.seq)",
            (sink, seq),
        )


def _chain(events: Sequence[Pending], last_seq: int, prev: str, hasher: Hasher) -> list[Row]:
    """The rows of the events, chained after (last_seq, prev): the loop under the write lock,
    with chain.canonical_body inlined."""
    rows: list[Row] = []
    add = rows.append
    seq = last_seq
    if hasher.key is None and not hasher.light:
        from hashlib import sha256

        for time_ns, _, _, tail, fields_text in events:
            seq += 1
            body = f'{{"seq":{seq},"prev":"{prev}","time":{time_ns},{tail}{fields_text}}}'
            prev = sha256(body.encode()).hexdigest()
            add((seq, body, prev))
        return rows
    hexdigest = hasher.hexdigest()
    for time_ns, _, _, tail, fields_text in events:
        seq += 1
        body = f'{{"seq":{seq},"prev":"{prev}","time":{time_ns},{tail}{fields_text}}}'
        prev = hexdigest(body.encode())
        add((seq, body, prev))
    return rows


class _Syncer:
    """A daemon thread that runs `sync` after each request, so that a writer of batches does
    not wait for their fsync. Requests that arrive during a sync are served by one more."""

    def __init__(self, sync: Callable[[], None]) -> None:
        import threading

        self._sync = sync
        self._wake = threading.Condition()
        self._requested = self._served = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="audit-fsync", daemon=True)
        self._thread.start()

    def request(self) -> None:
        with self._wake:
            self._requested += 1
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._served == self._requested and not self._stopping:
                    self._wake.wait()
                if self._served == self._requested:
                    return
                self._served = self._requested
            self._sync()


def _insert(conn: sqlite3.Connection, rows: list[Row]) -> None:
    """Multi-row INSERTs: one statement for up to _INSERT_ROWS rows costs about 40% less per row
    than executemany, which runs the statement once per row. The sizes are 256 and powers of
    two below it, so that the statement cache holds every shape."""
    i, n = 0, len(rows)
    while i < n:
        size = min(_INSERT_ROWS, 1 << ((n - i).bit_length() - 1))
        conn.execute(_insert_sql(size), list(chain.from_iterable(rows[i : i + size])))
        i += size


_INSERT_SQL: dict[int, str] = {}


def _insert_sql(rows: int) -> str:
    sql = _INSERT_SQL.get(rows)
    if sql is None:
        sql = _INSERT_SQL[rows] = _INSERT + ",".join(["(?,?,?)"] * rows)
    return sql


_WRITE_FIXES = {
    "SQLITE_FULL": "free space on its filesystem, or set PYSANDBOX_HOME",
    "SQLITE_IOERR": "check the disk (dmesg), or set PYSANDBOX_HOME",
    "SQLITE_READONLY": "make it and its directory writable, or set PYSANDBOX_HOME",
    "SQLITE_CANTOPEN": "make its directory writable, or set PYSANDBOX_HOME",
    "SQLITE_PERM": "make it and its directory writable, or set PYSANDBOX_HOME",
}


def _write_transaction(conn: sqlite3.Connection, body: Callable[[], None]) -> None:
    """body under BEGIN IMMEDIATE, then COMMIT; on any exception, ROLLBACK. The BEGIN is inside the
    try: a KeyboardInterrupt (or any exception from a signal handler) that lands right after it
    would otherwise leave this process's connection holding the log's write lock, and every writer
    on the host waiting for it. A transaction such an interrupt left open before is rolled back
    first."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    try:
        conn.execute("BEGIN IMMEDIATE")
        body()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _is_busy(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


ENTRY_SYNCED = "user.pysandbox.entry-synced"


def _sync_entry_once(fd: int, directory: str) -> None:
    """fsync the directory holding the file open at fd, unless that was done for this very file
    before: a mark on the inode says so (an xattr, set only once the fsync has returned, so that
    whenever it is there the entry is durable). Each cold `pysandbox run` opens the WAL that an
    earlier one made; the mark spares it a directory fsync, a disk cache flush (0.25-3 ms here).
    A WAL made anew is a new inode, unmarked. Without xattrs, every first sync pays the fsync."""
    try:
        if os.getxattr(fd, ENTRY_SYNCED) == b"1":
            return
    except OSError:
        pass
    _fsync_path(directory)
    try:
        os.setxattr(fd, ENTRY_SYNCED, b"1")
    except OSError:
        pass


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RECORDS = "SELECT CAST(body AS BLOB) FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq"
_FIRST = itemgetter(0)
_COPY_V1 = "INSERT INTO events (seq, body, digest) SELECT seq, body, digest FROM events_v1"


def _execute_schema(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def _upgrade_v1_tables(conn: sqlite3.Connection, version: int) -> None:
    if version != 1:
        return  # another process upgraded it first
    issued = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    conn.execute("ALTER TABLE events RENAME TO events_v1")
    for index in ("events_by_sandbox", "events_by_type", "events_by_time"):
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    _execute_schema(conn)
    conn.execute(_COPY_V1)
    conn.execute("DROP TABLE events_v1")
    if issued:
        conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'events'", (issued[0],))
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


_FIRST_GAP = """
SELECT e.seq + 1 FROM events AS e
WHERE e.seq >= 1 AND e.seq < ? AND NOT EXISTS (SELECT 1 FROM events AS n WHERE n.seq = e.seq + 1)
ORDER BY e.seq LIMIT 1
"""


def _multiples(first: int, last: int, step: int) -> range:
    return range(-(-first // step) * step, last + 1, step)
