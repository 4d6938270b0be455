"""What the launcher (and image import, scan) tell the audit log.

Interface used by the launcher:
  Recorder(sandbox_id, name, profile_name)
  Recorder.event(type, durable=False, **fields)  durable: this and every earlier event are
      committed and fsync'd before it returns (so `event("create"); event("start", durable=True)`
      costs one transaction)
  Recorder.flush(durable=True), Recorder.close()  (close commits durably what is left)
Without a sandbox: record(type, **fields), e.g. record("scan", target=..., verdict="fail").

Import cost matters here (the `run` fast path): sqlite3, json and the sinks load on the first
flush, not on import.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from pysandbox.types import SandboxError, UserError

if TYPE_CHECKING:
    from pysandbox.audit.sinks import SinkSet
    from pysandbox.audit.store import Pending, Store, Stored

BATCH = 256  # non-durable events are committed in batches of this size (or on the next durable event)
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
        self._user = host_user()
        self.seccomp_window = seccomp_window
        self._store = store
        self._sinks: SinkSet | None = None
        self._pending: list[Pending] = []
        self._repeats: dict[str, _Repeats] = {}

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def event(self, type: str, durable: bool = False, **fields: Any) -> None:
        if type == "seccomp_violation":
            self._seccomp(fields)
        else:
            if durable or type == "exit":
                self._release_repeats(everything=True)  # their counts belong before an exit
            self._add(type, fields)
        if durable or len(self._pending) >= BATCH:
            self.flush(durable)

    def flush(self, durable: bool = True) -> list[Stored]:
        if not self._pending:
            return []
        events, self._pending = self._pending, []
        sinks = self._sink_set()
        try:
            stored = self._get_store().append(events, durable, queued_sinks=sinks.queued_keys())
        except UserError:
            raise
        except Exception as exc:  # sqlite3.Error, OSError: the sandbox must not run unrecorded
            raise SandboxError(f"cannot write the audit log: {exc}: check {self._get_store().path}") from None
        sinks.deliver(stored)
        return stored

    def close(self) -> None:
        self._release_repeats(everything=True)
        try:
            self.flush(durable=True)
        finally:
            if self._store is not None:
                self._store.close()

    # -- internals -------------------------------------------------------------------------------

    def _add(self, type_name: str, fields: dict[str, Any]) -> None:
        chain, events, store = _modules()
        events.check_fields(type_name, fields)
        self._pending.append(
            store.Pending(
                time.time_ns(),
                type_name,
                self.sandbox_id,
                self.name,
                self._user,
                self.profile,
                chain.fields_json(fields),
            )
        )

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
            from pysandbox.audit.chain import env_key
            from pysandbox.audit.store import Store

            self._store = Store(key=env_key())
        return self._store

    def _sink_set(self) -> SinkSet:
        if self._sinks is None:
            from pysandbox.audit.sinks import load_sinks

            self._sinks = load_sinks()
        return self._sinks


_loaded: tuple[Any, Any, Any] | None = None


def _modules() -> tuple[Any, Any, Any]:
    """chain, events, store: imported on the first event, not when the launcher imports us."""
    global _loaded
    if _loaded is None:
        from pysandbox.audit import chain, events, store

        _loaded = (chain, events, store)
    return _loaded


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
