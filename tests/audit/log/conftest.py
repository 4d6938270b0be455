"""Fixtures for the audit event log tests: the CLI, a filled log, raw SQLite access for tampering,
and cleanup of the detached sink forwarder the writers start."""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pysandbox import paths
from pysandbox.audit.recorder import Recorder

CliRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def audit() -> CliRun:
    """`pysandbox audit ARGS...` in a subprocess, with this test's PYSANDBOX_HOME."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "pysandbox", "audit", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )

    return run


def fill(count: int, sandbox: str = "sb-0001", name: str = "web") -> None:
    """`count` events of one sandbox: create, start, then exits with a counter."""
    with Recorder(sandbox, name, "strict") as rec:
        rec.event("create", image="alpine:3.20", command=["sh", "-c", "true"])
        rec.event("start", durable=True, pid=100)
        for i in range(count - 2):
            rec.event("exit", status=i % 256, signal=None, duration=0.25, peak_memory=4096 * i, cpu_time=0.01)


@pytest.fixture
def filled() -> Callable[..., None]:
    return fill


@pytest.fixture
def raw_db() -> Iterator[Callable[[], sqlite3.Connection]]:
    """A plain SQLite connection to the audit log, as an attacker with write access has."""
    conns: list[sqlite3.Connection] = []

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(paths.audit_db(), isolation_level=None)
        conns.append(conn)
        return conn

    yield connect
    for conn in conns:
        conn.close()


def _forwarder_pid(lock: Path) -> int | None:
    """The pid in the lock file while a forwarder holds the lock, else None."""
    if not lock.exists():
        return None
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        text = lock.read_text().strip()
        return int(text) if text.isdigit() else None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def wait_forwarder_idle(timeout: float = 30.0) -> None:
    lock = paths.home() / "audit-forward.lock"
    deadline = time.monotonic() + timeout
    while _forwarder_pid(lock) is not None and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def forwarder() -> Iterator[Callable[[float], None]]:
    """Waits for the detached forwarder to finish; kills it at teardown if it is still running."""
    yield wait_forwarder_idle
    lock = paths.home() / "audit-forward.lock"
    wait_forwarder_idle(5.0)
    pid = _forwarder_pid(lock)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        wait_forwarder_idle(5.0)
