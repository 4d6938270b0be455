"""What both backends share: the stats record, the Cgroup interface, and tear-down."""

from __future__ import annotations

import errno
import os
import re
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pysandbox.sandbox.cgroups.fs import CgroupFs
from pysandbox.sandbox.cgroups.plan import parse_cpu_list
from pysandbox.types import SandboxError

PREFIX = "psb-"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class CgroupStats:
    peak_memory: int | None = None
    oom_kills: int = 0
    pids_limit_hits: int = 0
    cpu_usage_ns: int | None = None


def leaf_name(sandbox_id: str) -> str:
    if not _ID.match(sandbox_id):
        raise SandboxError(f"sandbox id {sandbox_id!r} cannot name a cgroup: use letters, digits, _ . -")
    return PREFIX + sandbox_id


class Cgroup:
    """One sandbox's cgroup (one directory per v1 hierarchy, or one v2 directory)."""

    backend = "none"

    def __init__(self, fs: CgroupFs, dirs: tuple[Path, ...]) -> None:
        self.fs = fs
        self.dirs = dirs

    @property
    def path(self) -> Path:
        return self.dirs[0]

    def add(self, pid: int) -> None:
        try:
            for d in self.dirs:
                self.fs.write(d / "cgroup.procs", str(pid))
        except OSError as exc:
            raise SandboxError(f"cannot move pid {pid} into cgroup {self.path}: {exc.strerror}") from None

    def procs(self) -> list[int]:
        pids: set[int] = set()
        for d in self.dirs:
            pids.update(self.fs.procs(d))
        return sorted(pids)

    def stats(self) -> CgroupStats:
        raise NotImplementedError

    def kill(self) -> None:
        for pid in self.procs():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def remove(self, timeout: float = 10.0) -> None:
        """Kill whatever is left inside, then remove every directory; idempotent."""
        remove_dirs(self.fs, self.dirs, self.kill, timeout)


def remove_dirs(fs: CgroupFs, dirs: tuple[Path, ...], kill: Callable[[], None], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    pending = [d for d in dirs if fs.exists(d)]
    delay = 0.002
    while pending:
        if any(fs.procs(d) for d in pending):
            kill()
        still: list[Path] = []
        for d in pending:
            try:
                fs.rmdir(d)
            except FileNotFoundError:
                pass
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    raise SandboxError(f"cannot remove cgroup {d}: {exc.strerror}") from None
                still.append(d)
        pending = still
        if pending:
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def set_cpuset(fs: CgroupFs, path: Path, cpus: str, available: str) -> None:
    if available and not parse_cpu_list(cpus) <= parse_cpu_list(available):
        raise SandboxError(f"--cpuset-cpus {cpus} is not available: this machine has cpus {available}")
    write_limit(fs, path, cpus, "--cpuset-cpus")


def write_limit(fs: CgroupFs, path: Path, value: int | str, flag: str) -> None:
    try:
        fs.write(path, str(value))
    except OSError as exc:
        raise SandboxError(f"cannot apply {flag} {value} ({path.name}): {exc.strerror}") from None
