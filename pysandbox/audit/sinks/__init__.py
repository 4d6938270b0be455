"""Audit sinks: copies of the local record sent elsewhere. The local store always comes first.

Inline sinks (jsonl file, syslog over UDP or a unix datagram socket) are written right after the
commit; they cannot block for long and their failures are ignored (the event is already stored).
Queued sinks (HTTP POST, syslog over TCP) read from the store itself, which is their spool: a
detached forwarder process sends what lies past each sink's cursor, batched, retried with backoff,
so neither the sandbox nor `pysandbox run` ever waits on the network.
"""

from __future__ import annotations

import os
import sys

from pysandbox import paths

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Protocol

    from pysandbox.audit.sinks.config import SinkSpec
    from pysandbox.audit.store import Stored

    class Sink(Protocol):
        key: str

        def send(self, events: list[dict[str, Any]]) -> None: ...


LOCK_NAME = "audit-forward.lock"


def make_sink(spec: SinkSpec) -> Sink:
    if spec.kind == "jsonl":
        from pysandbox.audit.sinks.jsonl import JsonlSink

        return JsonlSink(spec)
    if spec.kind == "syslog":
        from pysandbox.audit.sinks.syslog import SyslogSink

        return SyslogSink(spec)
    from pysandbox.audit.sinks.http import HttpSink

    return HttpSink(spec)


def is_queued(spec: SinkSpec) -> bool:
    return spec.kind == "http" or spec.target.startswith("tcp://")


class SinkSet:
    def __init__(self, inline: list[SinkSpec] | None = None, queued: list[SinkSpec] | None = None) -> None:
        self.inline = inline or []
        self.queued = queued or []
        self._sinks: list[Sink] | None = None

    def queued_keys(self) -> list[str]:
        return [spec.key for spec in self.queued]

    def deliver(self, stored: Sequence[Stored]) -> None:
        if not stored:
            return
        if self.inline:
            self._send_inline(stored)
        if self.queued:
            kick_forwarder()

    def _send_inline(self, stored: Sequence[Stored]) -> None:
        from pysandbox.audit.export import event_object

        if self._sinks is None:
            self._sinks = [make_sink(spec) for spec in self.inline]
        events = [event_object(s.body) for s in stored]
        for sink in self._sinks:
            try:
                sink.send(events)
            except Exception:  # a sink's failure never reaches the sandbox: the store has the event
                pass


def load_sinks() -> SinkSet:
    from pysandbox.audit.sinks.config import configured_sinks

    specs = configured_sinks()
    return SinkSet([s for s in specs if not is_queued(s)], [s for s in specs if is_queued(s)])


def lock_path() -> str:
    return paths.location(LOCK_NAME)


def kick_forwarder() -> None:
    """Start the forwarder unless one runs (it re-checks for new events before it exits)."""
    import fcntl

    try:
        fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return
    os.close(fd)  # releases the lock: the forwarder takes it itself
    _spawn_detached([sys.executable, "-m", "pysandbox.audit.sinks.forward"])


def _spawn_detached(argv: list[str]) -> None:
    """Double fork: the forwarder is nobody's child here, so no waitpid in the launcher ever sees it."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                os.closerange(3, 1 << 16)
                os.execve(argv[0], argv, env)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
