"""What both backends share: the stats record, the Cgroup interface, and tear-down."""

from __future__ import annotations

import errno
import os
import time
from _signal import SIGKILL

from pysandbox.record import record
from pysandbox.sandbox.cgroups.fs import CgroupFs, join
from pysandbox.sandbox.spec import parse_cpu_list
from pysandbox.types import SandboxError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable

PREFIX = "psb-"
_ID_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_ID_REST = _ID_FIRST | frozenset("_.-")
_ID_MAX = 128


@record(frozen=True)
class CgroupStats:
    peak_memory: int | None = None
    oom_kills: int = 0
    pids_limit_hits: int = 0
    cpu_usage_ns: int | None = None


def leaf_name(sandbox_id: str) -> str:
    valid = 0 < len(sandbox_id) <= _ID_MAX and sandbox_id[0] in _ID_FIRST and _ID_REST.issuperset(sandbox_id)
    if not valid:
        raise SandboxError(f"sandbox id {sandbox_id!r} cannot name a cgroup: use letters, digits, _ . -")
    return PREFIX + sandbox_id


class Cgroup:
    """One sandbox's cgroup (one directory per v1 hierarchy, or one v2 directory)."""

    backend = "none"

    def __init__(self, fs: CgroupFs, dirs: tuple[str, ...]) -> None:
        self.fs = fs
        self.dirs = dirs

    @property
    def path(self) -> str:
        return self.dirs[0]

    def add(self, pid: int) -> None:
        try:
            for d in self.dirs:
                self.fs.write(join(d, "cgroup.procs"), str(pid))
        except OSError as exc:
            raise SandboxError(f"cannot move pid {pid} into cgroup {self.path}: {exc.strerror}") from None

    def open_self_join(self) -> tuple[int, ...] | None:
        """Files through which the sandbox's first child moves itself in (it writes "0" to each:
        launcher.join_cgroup), or None: then the launcher moves it with `add`."""
        return None

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
                os.kill(pid, SIGKILL)
            except OSError:
                pass

    def remove(self, timeout: float = 10.0) -> None:
        """Kill whatever is left inside, then remove every directory; idempotent."""
        remove_dirs(self.fs, self.dirs, self.kill, timeout)


def remove_dirs(fs: CgroupFs, dirs: tuple[str, ...], kill: Callable[[], None], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    pending = [d for d in dirs if fs.exists(d)]
    delay = 0.002
    while pending:
        if any(fs.procs(d) for d in pending):
            kill()
        still: list[str] = []
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


def set_cpuset(fs: CgroupFs, path: str, cpus: str, available: str) -> None:
    if available and not parse_cpu_list(cpus) <= parse_cpu_list(available):
        raise SandboxError(f"--cpuset-cpus {cpus} is not available: this machine has cpus {available}")
    write_limit(fs, path, cpus, "--cpuset-cpus")


def write_limit(fs: CgroupFs, path: str, value: int | str, flag: str) -> None:
    try:
        fs.write(path, str(value))
    except OSError as exc:
        raise SandboxError(
            f"cannot apply {flag} {value} ({os.path.basename(path)}): {exc.strerror}"
        ) from None
