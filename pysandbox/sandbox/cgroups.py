"""cgroup limits for a sandbox. STUB owned by the cgroups work (issue 3).

Interface used by the launcher (parent side):
  create(sandbox_id, limits) -> Cgroup | None   None when the profile sets no limit
  Cgroup.add(pid)        before the sandbox's init forks, so every descendant is inside
  Cgroup.stats() -> CgroupStats
  Cgroup.remove()
  cleanup_stale()        removes cgroups of sandboxes whose launcher died
"""

from __future__ import annotations

from dataclasses import dataclass

from pysandbox.policies.model import Limits


@dataclass(frozen=True)
class CgroupStats:
    peak_memory: int | None = None
    oom_kills: int = 0
    pids_limit_hits: int = 0
    cpu_usage_ns: int | None = None


class Cgroup:
    def add(self, pid: int) -> None:
        raise NotImplementedError

    def stats(self) -> CgroupStats:
        return CgroupStats()

    def remove(self) -> None:
        pass


def create(sandbox_id: str, limits: Limits) -> Cgroup | None:
    return None


def cleanup_stale() -> None:
    pass
