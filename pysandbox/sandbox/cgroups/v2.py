"""cgroup v2 backend: `<base>/psb-<id>` under a delegated subtree `base` (taken as a parameter so
the backend runs unchanged against a cgroupfs-like file tree in tests)."""

from __future__ import annotations

import errno
import os

from pysandbox.sandbox.cgroups import owner
from pysandbox.sandbox.cgroups.base import Cgroup, CgroupStats, remove_dirs, set_cpuset, write_limit
from pysandbox.sandbox.cgroups.fs import CgroupFs, join, read_keyed
from pysandbox.sandbox.cgroups.plan import Plan, host_has_swap, v2_io_weight
from pysandbox.types import SandboxError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path

STAT_CONTROLLERS = ("memory", "pids")  # cpu.stat usage_usec exists without the cpu controller
DELEGATE_FIX = "sudo pysandbox setup --delegate USER, or systemd-run --user --scope -p Delegate=yes"


if TYPE_CHECKING:
    from os import PathLike


def controllers(fs: CgroupFs, cgroup: str, name: str = "cgroup.controllers") -> set[str]:
    try:
        return set(fs.read(join(cgroup, name)).split())
    except OSError:
        return set()


class V2Cgroup(Cgroup):
    backend = "v2"

    def stats(self) -> CgroupStats:
        fs, d = self.fs, self.path
        usage_us = read_keyed(fs, join(d, "cpu.stat"), "usage_usec")
        return CgroupStats(
            peak_memory=_read_peak(fs, d),
            oom_kills=read_keyed(fs, join(d, "memory.events"), "oom_kill") or 0,
            pids_limit_hits=read_keyed(fs, join(d, "pids.events"), "max") or 0,
            cpu_usage_ns=usage_us * 1000 if usage_us is not None else None,
        )

    def kill(self) -> None:
        if self.fs.exists(join(self.path, "cgroup.kill")):
            try:
                self.fs.write(join(self.path, "cgroup.kill"), "1")
                return
            except OSError:
                pass
        super().kill()


def _read_peak(fs: CgroupFs, d: str) -> int | None:
    try:
        text = fs.read(join(d, "memory.peak")).strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class V2Backend:
    name = "v2"

    def __init__(
        self, base: str | PathLike[str], fs: CgroupFs | None = None, make_base: bool = False
    ) -> None:
        self.base = os.fspath(base)
        self.fs = fs or CgroupFs()
        self.make_base = make_base  # as root: create `base` and enable what it needs in its parent
        self.parent = os.path.dirname(self.base)

    def bases(self) -> list[str]:
        return [self.base]

    def missing(self, plan: Plan) -> list[str]:
        if self.make_base and not self.fs.exists(self.base):
            available = controllers(self.fs, self.parent)
            return [f"the {c} controller is not available in {self.parent}"
                    for c in plan.controllers() if c not in available]  # fmt: skip
        if not self.fs.exists(self.base):
            return [f"{self.base} does not exist"]
        if not self.fs.writable(self.base):
            return [f"{self.base} is not writable"]
        available = controllers(self.fs, self.base)
        return [f"the {c} controller is not delegated to {self.base}"
                for c in plan.controllers() if c not in available]  # fmt: skip

    def create(self, leaf: str, plan: Plan) -> V2Cgroup:
        wanted = set(plan.controllers())
        if self.make_base:
            wanted.update(c for c in STAT_CONTROLLERS if c in controllers(self.fs, self.parent))
            self._enable(self.parent, wanted)
            try:
                self.fs.mkdir(self.base)
            except FileExistsError:
                pass
        else:
            wanted.update(c for c in STAT_CONTROLLERS if c in controllers(self.fs, self.base))
        self._enable(self.base, wanted)
        path = join(self.base, leaf)
        try:
            self.fs.mkdir(path)
        except FileExistsError:
            raise SandboxError(f"cgroup {path} already exists: is sandbox {leaf} still running?") from None
        except OSError as exc:
            raise SandboxError(f"cannot create cgroup {path}: {exc.strerror}") from None
        cgroup = V2Cgroup(self.fs, (path,))
        try:
            self.fs.set_owner(path, owner.current_tag())
            self._apply(cgroup, plan)
        except BaseException:
            remove_dirs(self.fs, (path,), lambda: None)
            raise
        return cgroup

    def _enable(self, cgroup: str, wanted: set[str]) -> None:
        enabled = controllers(self.fs, cgroup, "cgroup.subtree_control")
        todo = sorted(wanted - enabled)
        if not todo:
            return
        try:
            self.fs.write(join(cgroup, "cgroup.subtree_control"), " ".join(f"+{c}" for c in todo))
        except OSError as exc:
            why = "it has processes of its own" if exc.errno == errno.EBUSY else exc.strerror
            raise SandboxError(f"cannot enable {', '.join(todo)} in {cgroup} ({why}): run under a "
                               f"delegated cgroup: {DELEGATE_FIX}") from None  # fmt: skip

    def _apply(self, cg: V2Cgroup, plan: Plan) -> None:
        fs, d = self.fs, cg.path
        if plan.memory is not None:
            write_limit(fs, join(d, "memory.max"), plan.memory, "--memory")
            swap = "max" if plan.memsw is None else str(plan.memsw - plan.memory)
            if fs.exists(join(d, "memory.swap.max")):
                write_limit(fs, join(d, "memory.swap.max"), swap, "--memory-swap")
            elif plan.memsw is not None and host_has_swap():
                raise SandboxError("cannot limit swap: the kernel has no swap accounting "
                                   "(boot with swapaccount=1) or pass --memory-swap -1")  # fmt: skip
        if plan.cpu_quota_us is not None:
            write_limit(fs, join(d, "cpu.max"), f"{plan.cpu_quota_us} {plan.cpu_period_us}", "--cpus")
        if plan.cpuset is not None:
            effective = join(self.base, "cpuset.cpus.effective")
            available = fs.read(effective).strip() if fs.exists(effective) else ""
            set_cpuset(fs, join(d, "cpuset.cpus"), plan.cpuset, available)
        if plan.pids is not None:
            write_limit(fs, join(d, "pids.max"), plan.pids, "--pids-limit")
        if plan.io_weight is not None:
            if fs.exists(join(d, "io.weight")):
                write_limit(fs, join(d, "io.weight"), f"default {v2_io_weight(plan.io_weight)}", "io weight")
            elif fs.exists(join(d, "io.bfq.weight")):
                write_limit(fs, join(d, "io.bfq.weight"), plan.io_weight, "io weight")
            else:
                raise SandboxError("io weight: the block I/O scheduler has no weights (no io.weight)")
