"""cgroup v1 backend: one directory per hierarchy, `<mount>/pysandbox/psb-<id>` as root, or
`<mount>/pysandbox/user-<uid>/psb-<id>` under the subtree `pysandbox setup --delegate` gave a user."""

from __future__ import annotations

import os

from pysandbox.sandbox.cgroups import owner
from pysandbox.sandbox.cgroups.base import Cgroup, CgroupStats, remove_dirs, set_cpuset, write_limit
from pysandbox.sandbox.cgroups.fs import CgroupFs, join, read_int, read_keyed, root_mounts
from pysandbox.sandbox.cgroups.plan import Plan, host_has_swap
from pysandbox.types import SandboxError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Mapping
    from os import PathLike
    from pathlib import Path

CONTROLLERS = ("memory", "cpu", "cpuacct", "cpuset", "pids", "blkio")
STAT_CONTROLLERS = ("memory", "pids", "cpuacct")  # joined when usable, for the exit report
SUBTREE = "pysandbox"
IO_WEIGHT_FILES = ("blkio.weight", "blkio.bfq.weight")


def v1_mounts(mountinfo: str = "/proc/self/mountinfo") -> dict[str, Path]:
    """`mount_points` as `Path`s, for other commands and tests (the run path does without pathlib)."""
    from pathlib import Path

    return {name: Path(mount) for name, mount in mount_points(mountinfo).items()}


def mount_points(mountinfo: str = "/proc/self/mountinfo") -> dict[str, str]:
    """Controller name -> mount point of its v1 hierarchy (co-mounted controllers share one)."""
    found: dict[str, str] = {}
    for fstype, mount, options in root_mounts(mountinfo):
        if fstype == "cgroup":
            for opt in options.split(","):
                if opt in CONTROLLERS:
                    found.setdefault(opt, mount)
    return found


def user_subtree(mount: str, uid: int) -> str:
    return join(mount, SUBTREE, f"user-{uid}")


def io_weight_file(fs: CgroupFs, mount: str) -> str | None:
    return next((name for name in IO_WEIGHT_FILES if fs.exists(join(mount, name))), None)


class V1Cgroup(Cgroup):
    backend = "v1"

    def __init__(self, fs: CgroupFs, by_controller: dict[str, str]) -> None:
        super().__init__(fs, tuple(dict.fromkeys(by_controller.values())))
        self.by_controller = by_controller

    def _file(self, controller: str, name: str) -> str | None:
        d = self.by_controller.get(controller)
        return join(d, name) if d is not None else None

    def open_self_join(self) -> tuple[int, ...] | None:
        """Each hierarchy's `tasks` file, opened here: the kernel checks the opener's credentials,
        not the writer's. A thread that moves itself through `tasks` skips the threadgroup lock
        whose RCU grace period makes a `cgroup.procs` write wait ~15-20 ms. None when a file
        cannot be opened (a delegated subtree without write access to it): `add` then."""
        fds: list[int] = []
        try:
            for d in self.dirs:
                fds.append(os.open(join(d, "tasks"), os.O_WRONLY | os.O_CLOEXEC))
        except OSError:
            for fd in fds:
                os.close(fd)
            return None
        return tuple(fds)

    def stats(self) -> CgroupStats:
        fs = self.fs
        peak = self._file("memory", "memory.max_usage_in_bytes")
        oom = self._file("memory", "memory.oom_control")
        events = self._file("pids", "pids.events")
        usage = self._file("cpuacct", "cpuacct.usage")
        return CgroupStats(
            peak_memory=read_int(fs, peak) if peak else None,
            oom_kills=(read_keyed(fs, oom, "oom_kill") or 0) if oom else 0,
            pids_limit_hits=(read_keyed(fs, events, "max") or 0) if events else 0,
            cpu_usage_ns=read_int(fs, usage) if usage else None,
        )


class V1Backend:
    name = "v1"

    def __init__(self, mounts: Mapping[str, str | PathLike[str]] | None = None,
                 fs: CgroupFs | None = None, uid: int | None = None) -> None:  # fmt: skip
        found = mount_points() if mounts is None else mounts
        self.mounts = {name: os.fspath(mount) for name, mount in found.items()}
        self.fs = fs or CgroupFs()
        self.uid = os.geteuid() if uid is None else uid

    @property
    def rootless(self) -> bool:
        return self.uid != 0

    def base(self, controller: str) -> str:
        mount = self.mounts[controller]
        return user_subtree(mount, self.uid) if self.rootless else join(mount, SUBTREE)

    def bases(self) -> list[str]:
        return list(dict.fromkeys(self.base(c) for c in self.mounts))

    def usable(self, controller: str) -> bool:
        if controller not in self.mounts:
            return False
        if not self.rootless:
            return True
        base = self.base(controller)
        return self.fs.exists(base) and self.fs.writable(base)

    def missing(self, plan: Plan) -> list[str]:
        """Why each limit of the plan cannot be enforced here (empty when all can)."""
        reasons: list[str] = []
        for want in plan.controllers():
            controller = "blkio" if want == "io" else want
            if controller not in self.mounts:
                reasons.append(f"no {controller} cgroup controller is mounted")
            elif not self.usable(controller):
                reasons.append(f"{self.base(controller)} is missing or not writable by uid {self.uid}")
            elif want == "io" and io_weight_file(self.fs, self.mounts["blkio"]) is None:
                reasons.append("the block I/O scheduler has no weights (no blkio.weight)")
        return reasons

    def create(self, leaf: str, plan: Plan) -> V1Cgroup:
        wanted = {"blkio" if c == "io" else c for c in plan.controllers()}
        wanted.update(c for c in STAT_CONTROLLERS if self.usable(c))
        by_controller: dict[str, str] = {}
        made: dict[str, str] = {}  # hierarchy mount -> created directory
        try:
            for controller in sorted(wanted):
                mount = self.mounts[controller]
                if mount not in made:
                    made[mount] = self._make_leaf(controller, leaf)
                by_controller[controller] = made[mount]
            cgroup = V1Cgroup(self.fs, by_controller)
            self._apply(cgroup, plan)
        except BaseException:
            remove_dirs(self.fs, tuple(made.values()), lambda: None)
            raise
        return cgroup

    def _make_leaf(self, controller: str, leaf: str) -> str:
        base = self.base(controller)
        path = join(base, leaf)
        for attempt in (1, 2):
            if not self.rootless:
                self._ensure_base(base)
            try:
                self.fs.mkdir(path)
                break
            except FileExistsError:
                raise SandboxError(f"cgroup {path} already exists: is {leaf} still running?") from None
            except FileNotFoundError:
                if attempt == 2 or self.rootless:  # root: `setup --undo` may have removed the base
                    raise SandboxError(f"cannot create cgroup {path}: {base} does not exist") from None
            except OSError as exc:
                raise SandboxError(f"cannot create cgroup {path}: {exc.strerror}") from None
        try:
            self.fs.set_owner(path, owner.current_tag())
            inherit_cpuset(self.fs, base, path)
        except BaseException:
            remove_dirs(self.fs, (path,), lambda: None)
            raise
        return path

    def _ensure_base(self, base: str) -> None:
        if self.fs.exists(base):
            return
        try:
            self.fs.mkdir(base)
        except FileExistsError:
            return
        inherit_cpuset(self.fs, os.path.dirname(base), base)

    def _apply(self, cg: V1Cgroup, plan: Plan) -> None:
        fs = self.fs
        if plan.memory is not None:
            memdir = cg.by_controller["memory"]
            write_limit(fs, join(memdir, "memory.limit_in_bytes"), plan.memory, "--memory")
            if plan.memsw is not None:
                if fs.exists(join(memdir, "memory.memsw.limit_in_bytes")):
                    write_limit(fs, join(memdir, "memory.memsw.limit_in_bytes"), plan.memsw, "--memory-swap")
                elif host_has_swap():
                    raise SandboxError("cannot limit swap: the kernel has no swap accounting "
                                       "(boot with swapaccount=1) or pass --memory-swap -1")  # fmt: skip
        if plan.cpu_quota_us is not None:
            cpudir = cg.by_controller["cpu"]
            write_limit(fs, join(cpudir, "cpu.cfs_period_us"), plan.cpu_period_us, "--cpus")
            write_limit(fs, join(cpudir, "cpu.cfs_quota_us"), plan.cpu_quota_us, "--cpus")
        if plan.cpuset is not None:
            cpuset_dir = cg.by_controller["cpuset"]
            available = fs.read(join(os.path.dirname(cpuset_dir), "cpuset.cpus")).strip()
            set_cpuset(fs, join(cpuset_dir, "cpuset.cpus"), plan.cpuset, available)
        if plan.pids is not None:
            write_limit(fs, join(cg.by_controller["pids"], "pids.max"), plan.pids, "--pids-limit")
        if plan.io_weight is not None:
            weight_file = io_weight_file(fs, self.mounts["blkio"]) or IO_WEIGHT_FILES[0]
            write_limit(fs, join(cg.by_controller["blkio"], weight_file), plan.io_weight, "io weight")


def inherit_cpuset(fs: CgroupFs, parent: str, child: str) -> None:
    """A new v1 cpuset cgroup starts with no cpus or mems: nothing could run in it until set."""
    if not fs.exists(join(child, "cpuset.cpus")):
        return
    for name in ("cpuset.cpus", "cpuset.mems"):
        if not fs.read(join(child, name)).strip():
            fs.write(join(child, name), fs.read(join(parent, name)).strip())
    fs.write(join(child, "cgroup.clone_children"), "1")
