"""What the launcher (and image import, scan) tell the audit log.

Interface used by the launcher:
  Recorder(sandbox_id, name, profile_name)
  Recorder.event(type, durable=False, **fields)  durable: this and every earlier event are
      committed and fsync'd before it returns (so `event("create"); event("start", durable=True)`
      costs one transaction)
  Recorder.flush(), Recorder.close()  (close commits durably what is left; close(durable=False)
      commits it and leaves its fsync to the process's writer: the next durable commit, the
      writer's close at exit, or the kernel's writeback)
  Recorder.discard()  drops the events not committed yet
  Recorder.prepare()  loads the writer (sinks, SQLite, the connection) and commits what waits
      without waiting for its fsync, so that the next durable event pays only its own (small)
      transaction and the fsync that covers both
Without a sandbox: record(type, **fields), e.g. record("scan", target=..., verdict="fail").

Other events are batched: committed once BATCH_EVENTS of them wait or the oldest has waited
BATCH_SECONDS (checked when the next event arrives), or with the next durable event, or at
close. Every commit is fsync'd; `durable` decides whether the caller waits for it: a batch's
fsync runs in a background thread while events go on arriving (a kill -9 loses no committed
event either way: only a power cut before that fsync would).

Import cost matters here (the `run` fast path): sqlite3, hashlib and the sinks load on the first
flush, not on import.
"""

from __future__ import annotations

import atexit
import os
import time

from pysandbox import paths
from pysandbox.types import SandboxError, UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pysandbox.audit.sinks import SinkSet
    from pysandbox.audit.store import Pending, Row, Store

    _Functions = tuple[
        Callable[[str, dict[str, Any]], object],
        Callable[[dict[str, Any]], str],
        Callable[[str, str | None, str | None, str, str | None], str],
    ]

BATCH_EVENTS = 2048  # a batch is committed when it holds this many events...
BATCH_SECONDS = 0.1  # ...or when its oldest event is this old
_BATCH_NS = int(BATCH_SECONDS * 1e9)
SECCOMP_WINDOW_S = 1.0  # repeats of one syscall within this window become one event with a count
_SECCOMP_MAX_KEYS = 256  # distinct syscalls tracked per window; the rest are counted under "(other)"


class _Repeats:
    __slots__ = ("count", "fields", "start")

    def __init__(self, start: float) -> None:
        self.start, self.count = start, 0
        self.fields: dict[str, Any] = {}


class Recorder:
    def __init__(
        self,
        sandbox_id: str | None,
        name: str | None,
        profile: str | None,
        *,
        store: Store | None = None,
        seccomp_window: float = SECCOMP_WINDOW_S,
    ) -> None:
        if sandbox_id is not None and any(c in '"\\' or c < " " for c in sandbox_id):
            raise ValueError(f"sandbox id {sandbox_id!r} has quotes, backslashes or control characters")
        self.sandbox_id, self.name, self.profile = sandbox_id, name, profile
        self.seccomp_window = seccomp_window
        self._store = store
        self._sinks: SinkSet | None = None  # None: none configured (or not looked up yet)
        self._sinks_loaded = False
        self._pending: list[Pending] = []
        self._repeats: dict[str, _Repeats] = {}
        self._tails: dict[str, str] = {}  # event type -> its envelope tail (chain.envelope_tail)
        # Loaded with the first event, not here: the launcher makes its recorder before it forks
        # PID 1 and records the first events while PID 1 builds its root.
        self._functions: _Functions | None = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def event(self, type: str, durable: bool = False, **fields: Any) -> None:
        if type == "seccomp_violation":
            self._seccomp(fields)
            now = time.time_ns()
        else:
            if self._repeats and (durable or type == "exit"):
                self._release_repeats(everything=True)  # their counts belong before an exit
            check, encode, _ = self._functions or self._load()
            check(type, fields)  # _add, inlined: this is the per-event cost
            tail = self._tails.get(type) or self._tail(type)
            now = time.time_ns()
            self._pending.append((now, type, self.sandbox_id, tail, encode(fields)))
        pending = self._pending
        if durable or len(pending) >= BATCH_EVENTS or (pending and now - pending[0][0] >= _BATCH_NS):
            self.flush(durable)

    def flush(self, durable: bool = True, background: bool = True) -> list[Row]:
        """Commit what waits; the rows as stored. durable: and fsync'd (with every earlier
        commit) before returning; otherwise fsync'd in the background, or (background=False)
        by the store's next durable commit or close (Store.append)."""
        if not self._pending:
            if durable and self._store is not None:
                _sync_store(self._store)  # earlier batches whose fsync may still run in the background
            return []
        events, self._pending = self._pending, []
        sinks = self._sink_set()
        try:
            keys = sinks.queued_keys() if sinks is not None else []
            rows = self._get_store().append(events, queued_sinks=keys, wait=durable, background=background)
        except UserError:
            raise
        except Exception as exc:  # sqlite3.Error, OSError: the sandbox must not run unrecorded
            raise SandboxError(f"cannot write the audit log: {exc}: check {self._get_store().path}") from None
        if sinks is not None and (sinks.inline or sinks.queued):
            from pysandbox.audit.store import Stored

            sinks.deliver([Stored(row[0], row[1]) for row in rows])
        return rows

    def prepare(self) -> None:
        """The writer loaded and what waits committed, its fsync left to the next durable commit:
        the launcher does this while PID 1 builds its root (the create event: a first transaction
        also reads the log's head and compiles its statements, ~1 ms), then commits start, durably,
        before the workload starts."""
        self._sink_set()
        store = self._get_store()
        try:
            store.conn()
        except UserError:
            raise
        except Exception as exc:  # as in flush: the sandbox must not run unrecorded
            raise SandboxError(f"cannot write the audit log: {exc}: check {store.path}") from None
        if self._pending:
            self.flush(durable=False, background=False)

    def discard(self) -> None:
        """Drop what waits, uncommitted: the events of a sandbox started ahead that never ran."""
        self._pending = []
        self._repeats.clear()

    def close(self, durable: bool = True) -> None:
        """Commit what waits. durable: when this returns, every event of this recorder is on
        disk; otherwise committed (a kill -9 loses none) and its fsync left to the process's
        shared writer (Store.append)."""
        self._release_repeats(everything=True)
        shared = self._store is None or self._store is _shared.get("store")
        durable = durable or not shared  # a store of its own is closed, and closing syncs
        try:
            self.flush(durable=durable, background=False)
        finally:
            if self._store is not None and durable:
                # waits for the background fsync of batches; the process's shared store stays open
                _sync_store(self._store, close=not shared)

    # -- internals -------------------------------------------------------------------------------

    def _load(self) -> _Functions:
        self._functions = _functions()
        return self._functions

    def _add(self, type_name: str, fields: dict[str, Any]) -> None:
        check, encode, _ = self._functions or self._load()
        check(type_name, fields)
        tail = self._tails.get(type_name) or self._tail(type_name)
        self._pending.append((time.time_ns(), type_name, self.sandbox_id, tail, encode(fields)))

    def _tail(self, type_name: str) -> str:
        tail_of = (self._functions or self._load())[2]
        tail = tail_of(type_name, self.sandbox_id, self.name, host_user(), self.profile)
        self._tails[type_name] = tail
        return tail

    def _seccomp(self, fields: dict[str, Any]) -> None:
        """A hostile loop of denied syscalls becomes one event per syscall per window, with a count."""
        now = time.monotonic()
        self._release_repeats(now=now)
        name = str(fields.get("syscall", "?"))
        if name not in self._repeats and len(self._repeats) >= _SECCOMP_MAX_KEYS:
            name = "(other)"
        n = int(fields.get("count", 1))
        seen = self._repeats.get(name)
        if seen is not None:
            seen.count += n
            seen.fields = fields
            return
        self._repeats[name] = _Repeats(now)
        self._add("seccomp_violation", {**fields, "syscall": name, "count": n})

    def _release_repeats(self, now: float | None = None, everything: bool = False) -> None:
        if not self._repeats:
            return
        now = time.monotonic() if now is None else now
        for name, seen in list(self._repeats.items()):
            if everything or now - seen.start >= self.seccomp_window:
                del self._repeats[name]
                if seen.count:
                    window = round(now - seen.start, 3)
                    self._add(
                        "seccomp_violation",
                        {**seen.fields, "syscall": name, "count": seen.count, "window": window},
                    )

    def _get_store(self) -> Store:
        if self._store is None:
            self._store = shared_store()
        return self._store

    def _sink_set(self) -> SinkSet | None:
        """None when no sink is configured: the sinks package is then never imported (~1 ms of
        the launcher's work while PID 1 builds its root, which the audit log already overruns)."""
        if not self._sinks_loaded:
            if os.environ.get(paths.SINKS_ENV) or os.path.exists(paths.location(paths.CONFIG)):
                from pysandbox.audit.sinks import load_sinks

                self._sinks = load_sinks()  # a bad config raises here, at every flush: nothing is written
            self._sinks_loaded = True
        return self._sinks


def _functions() -> _Functions:
    """events.check_fields, chain.fields_json, chain.envelope_tail: imported with the first event,
    not when the launcher imports this module."""
    from pysandbox.audit.chain import envelope_tail, fields_json
    from pysandbox.audit.events import check_fields

    return check_fields, fields_json, envelope_tail


def _sync_store(store: Store, close: bool = False) -> None:
    try:
        if close:
            store.close()
        else:
            store.sync()
    except OSError as exc:
        raise SandboxError(f"cannot write the audit log: {exc}: check {store.path}") from None


_shared: dict[str, Store] = {}  # "store": the process's writer (shared_store)


def shared_store() -> Store:
    """The process's writer of the audit log, kept open from one sandbox to the next: a launch
    then pays no connection, schema check or close-time checkpoint (with the WAL it empties and
    recreates, and the directory fsync that follows), ~4 ms of each warm launch. A new writer
    when PYSANDBOX_HOME, the key or the file itself (moved aside, replaced) has changed."""
    from pysandbox.audit.chain import env_key
    from pysandbox.audit.store import Store

    key = env_key()
    path = paths.location(paths.AUDIT_DB)
    store = _shared.get("store")
    if store is not None and store.path == path and store.hasher.key == key and store.is_current():
        return store
    if store is not None:
        del _shared["store"]
        store.close()
    store = _shared["store"] = Store(path, key=key)
    return store


def _close_shared() -> None:
    store = _shared.pop("store", None)
    if store is not None:
        store.close()


atexit.register(_close_shared)  # a checkpoint at a clean exit; `run` leaves with os._exit, the WAL stays


def record(type: str, durable: bool = True, **fields: Any) -> None:
    """One event that belongs to no sandbox (image_import, scan), committed before returning."""
    rec = Recorder(None, None, None)
    try:
        rec.event(type, durable=durable, **fields)
        rec.close()
    except SandboxError as exc:
        raise UserError(str(exc)) from None


_user: str | None = None


def host_user() -> str:
    global _user
    if _user is None:
        import pwd

        uid = os.getuid()
        try:
            _user = pwd.getpwuid(uid).pw_name
        except KeyError:
            _user = str(uid)
    return _user
