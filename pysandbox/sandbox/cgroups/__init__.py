"""cgroup limits for a sandbox: one interface, a v1 and a v2 backend chosen at runtime.

Interface used by the launcher (parent side):
  create(sandbox_id, limits, unenforced=None) -> Cgroup | None   None when no limit is set (or,
      with unenforced, none can be enforced)
  Cgroup.add(pid)        before the sandbox's init forks, so every descendant is inside
  Cgroup.open_self_join() -> fds | None   for the forked child to move itself in (much faster
      under v1); None: use add
  Cgroup.stats() -> CgroupStats
  Cgroup.remove()
  cleanup_stale()        removes cgroups of sandboxes whose launcher died
  describe(stats, limits) -> lines for stderr when a limit was hit (OOM kill, pids limit)
"""

from __future__ import annotations

import os

from pysandbox.policies.model import Limits
from pysandbox.record import replace
from pysandbox.sandbox.cgroups.base import Cgroup, CgroupStats, leaf_name
from pysandbox.sandbox.cgroups.detect import Backend, detect
from pysandbox.sandbox.cgroups.plan import Plan, has_limits, make_plan
from pysandbox.sandbox.cgroups.stale import sweep
from pysandbox.types import SandboxError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Cgroup", "CgroupStats", "cleanup_stale", "create", "describe"]

# per controller (Plan.controllers), the Plan fields of its limit and what sets that limit
_LIMITS = {
    "memory": (("memory", "memsw"), "--memory (limits.memory)"),
    "cpu": (("cpu_quota_us", "cpu_period_us"), "--cpus (limits.cpus)"),
    "cpuset": (("cpuset",), "--cpuset-cpus (limits.cpuset_cpus)"),
    "pids": (("pids",), "--pids-limit (limits.pids)"),
    "io": (("io_weight",), "limits.io_weight"),
}


def create(
    sandbox_id: str, limits: Limits, *, backend: Backend | None = None, unenforced: list[str] | None = None
) -> Cgroup | None:
    """The sandbox's cgroup with every limit applied; raises SandboxError when one cannot be.
    unenforced: the caller goes without a limit that cannot be enforced (--allow-unsafe): each one
    left out is appended to it, as `LIMIT: reason`, instead."""
    if not has_limits(limits):
        return None
    plan = make_plan(limits)
    leaf = leaf_name(sandbox_id)
    backend = backend or detect()
    if backend is None:
        _refuse(dict.fromkeys(plan.controllers(), "no cgroup filesystem is mounted"), unenforced)
        return None
    reasons = backend.missing(plan)
    if reasons:
        blocked = _blocked(backend, plan) or dict.fromkeys(plan.controllers(), reasons[0])
        _refuse(blocked, unenforced)
        plan = _without(plan, list(blocked))
        if not plan.controllers() or backend.missing(plan):
            return None
    return backend.create(leaf, plan)


def _refuse(blocked: dict[str, str], unenforced: list[str] | None) -> None:
    """blocked: controller -> why its limit cannot be enforced (under cgroup v1, each controller
    has a hierarchy of its own, so each may have its own reason)."""
    if unenforced is None:
        reasons = "; ".join(dict.fromkeys(blocked.values()))
        raise SandboxError(f"cannot enforce resource limits: {reasons}: {_fix(list(blocked))}")
    unenforced.extend(f"{_LIMITS[c][1]}: {reason}" for c, reason in blocked.items())


def _without(plan: Plan, blocked: Sequence[str]) -> Plan:
    bare = Plan()
    result: Plan = replace(plan, **{name: getattr(bare, name) for c in blocked for name in _LIMITS[c][0]})
    return result


def cleanup_stale(*, backend: Backend | None = None) -> list[str]:
    """Remove the cgroups of our sandboxes whose launcher is gone; never raises."""
    try:
        backend = backend or detect()
        if backend is None:
            return []
        return sweep(backend.fs, backend.bases())
    except Exception:
        return []


def describe(stats: CgroupStats, limits: Limits) -> list[str]:
    """What the launcher prints on stderr after the sandbox ended, one line per limit hit."""
    lines: list[str] = []
    if stats.oom_kills:
        limit = f" of {_size(limits.memory)}" if limits.memory else ""
        lines.append(f"out of memory: the kernel killed {_count(stats.oom_kills, 'process', 'processes')} "
                     f"at the --memory limit{limit}")  # fmt: skip
    if stats.pids_limit_hits:
        limit = f" of {limits.pids}" if limits.pids else ""
        lines.append(f"process limit reached: {_count(stats.pids_limit_hits, 'fork was', 'forks were')} "
                     f"refused at the --pids-limit{limit}")  # fmt: skip
    return lines


def _blocked(backend: Backend, plan: Plan) -> dict[str, str]:
    """The controllers of the plan whose limit, alone, cannot be enforced, with the reason."""
    blocked = {}
    for controller in plan.controllers():
        fields = _LIMITS[controller][0]
        reasons = backend.missing(Plan(**{name: getattr(plan, name) for name in fields}))
        if reasons:
            blocked[controller] = reasons[0]
    return blocked


def _fix(blocked: Sequence[str]) -> str:
    """How to get the limits, or how to go without them."""
    names = [_LIMITS[c][1] for c in blocked]
    without = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    also = f"or run without {without}, or pass --allow-unsafe to go without (audited)"
    if os.geteuid() == 0:
        return f"mount or enable that controller under /sys/fs/cgroup, {also}"
    import pwd

    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        user = str(os.geteuid())
    return f"run `sudo pysandbox setup --delegate {user}`, {also}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"
