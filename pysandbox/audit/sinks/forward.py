"""The forwarder: delivers stored events to the queued sinks, then exits once idle.

Started detached by a writer (`kick_forwarder`); one at a time per PYSANDBOX_HOME (flock). Each
sink has a cursor in the store (last seq delivered), so a crash or a kill only means a resend.
A failing sink is retried with exponential backoff and given up after `give_up` seconds; the
next writer starts a new forwarder, which resumes at the cursor.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass

from pysandbox.audit.sinks import lock_path, make_sink
from pysandbox.audit.sinks.config import SinkSpec, configured_sinks
from pysandbox.audit.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pysandbox.audit.sinks import Sink

LINGER_S = 1.0  # stay this long after catching up, for the events of a sandbox that is still running
POLL_S = 0.1
FIRST_BACKOFF_S = 0.25
MAX_BACKOFF_S = 30.0


@dataclass
class _Target:
    spec: SinkSpec
    sink: Sink
    backoff: float = 0.0
    next_try: float = 0.0
    failing_since: float | None = None
    gave_up: bool = False

    def failed(self, now: float) -> None:
        self.failing_since = self.failing_since or now
        self.backoff = min(MAX_BACKOFF_S, self.backoff * 2 or FIRST_BACKOFF_S)
        self.next_try = now + self.backoff
        self.gave_up = now - self.failing_since >= float(self.spec.option("give_up", 600.0))

    def succeeded(self) -> None:
        self.backoff, self.next_try, self.failing_since = 0.0, 0.0, None


def main() -> int:
    from pysandbox.audit.sinks import is_queued

    targets = [_Target(s, make_sink(s)) for s in configured_sinks() if is_queued(s)]
    store = Store(create=False)
    if not targets or not store.exists():
        return 0
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return 0  # another forwarder runs; it re-checks for new events before leaving
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # who holds it, for operators (and tests)
            try:
                drain(store, targets)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            # a writer may have committed while we were leaving, and seen the lock still held
            if not any(_pending(store, t) for t in targets if not t.gave_up):
                return 0
    finally:
        os.close(fd)
        store.close()


def drain(store: Store, targets: list[_Target]) -> None:
    idle_since = time.monotonic()
    while True:
        now = time.monotonic()
        sent = False
        for target in targets:
            if not target.gave_up and now >= target.next_try:
                sent |= _send_batch(store, target, now)
        if sent:
            idle_since = time.monotonic()
            continue
        waiting = [t.next_try for t in targets if t.failing_since is not None and not t.gave_up]
        if not waiting and time.monotonic() - idle_since >= LINGER_S:
            return
        if not waiting and all(t.gave_up for t in targets):
            return
        time.sleep(max(0.0, min([POLL_S, *(w - now for w in waiting)])))


def _send_batch(store: Store, target: _Target, now: float) -> bool:
    from pysandbox.audit.export import event_object

    cursor = store.cursor_of(target.spec.key) or 0
    rows = store.query("seq > ?", (cursor,), limit=int(target.spec.option("batch", 100)))
    if not rows:
        return False
    try:
        target.sink.send([event_object(r.body) for r in rows])
    except Exception:
        target.failed(now)
        return False
    target.succeeded()
    store.set_cursor(target.spec.key, rows[-1].seq)
    return True


def _pending(store: Store, target: _Target) -> bool:
    cursor = store.cursor_of(target.spec.key) or 0
    return bool(store.query("seq > ?", (cursor,), limit=1))


if __name__ == "__main__":
    raise SystemExit(main())
