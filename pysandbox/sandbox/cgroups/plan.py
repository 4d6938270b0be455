"""Translate a profile's `Limits` into the values both backends write, with docker's semantics."""

from __future__ import annotations

import os

from pysandbox.policies.model import Limits
from pysandbox.record import record
from pysandbox.sandbox.spec import MAX_SIZE, is_cpu_list
from pysandbox.types import SandboxError

CPU_PERIOD_US = 100_000
MIN_MEMORY = 6 * 1024 * 1024  # docker's minimum; below it the runtime itself cannot start
MIN_CPUS = 0.01
MIN_PIDS = 2  # the sandbox's init is one process: with one, the workload could not even start
MAX_PIDS = 1 << 22  # the kernel's PID_MAX_LIMIT: pids.max refuses more
IO_WEIGHTS = range(10, 1001)  # docker's blkio weight scale


@record(frozen=True)
class Plan:
    memory: int | None = None
    memsw: int | None = None  # memory + swap; None with `memory` set means unlimited swap
    cpu_quota_us: int | None = None
    cpu_period_us: int = CPU_PERIOD_US
    cpuset: str | None = None
    pids: int | None = None
    io_weight: int | None = None  # docker's blkio weight scale, 10..1000

    @property
    def swap_limited(self) -> bool:
        return self.memory is not None and self.memsw is not None

    def controllers(self) -> tuple[str, ...]:
        """Controllers this plan cannot do without (a limit it must enforce)."""
        wanted = {
            "memory": self.memory is not None,
            "cpu": self.cpu_quota_us is not None,
            "cpuset": self.cpuset is not None,
            "pids": self.pids is not None,
            "io": self.io_weight is not None,
        }
        return tuple(name for name, on in wanted.items() if on)


def has_limits(limits: Limits) -> bool:
    return any(
        v is not None
        for v in (limits.memory, limits.memory_swap, limits.cpus, limits.cpuset_cpus, limits.pids,
                  limits.io_weight)
    )  # fmt: skip


def make_plan(limits: Limits) -> Plan:
    memory, memsw = _memory(limits.memory, limits.memory_swap)
    return Plan(
        memory=memory,
        memsw=memsw,
        cpu_quota_us=_cpu_quota(limits.cpus),
        cpuset=_cpuset(limits.cpuset_cpus),
        pids=_pids(limits.pids),
        io_weight=_io_weight(limits.io_weight),
    )


def _pids(pids: int | None) -> int | None:
    if pids is None or pids <= 0:
        return None
    if pids < MIN_PIDS:
        raise SandboxError(f"--pids-limit {pids} leaves the workload no process (the sandbox's init is one): "
                           f"use {MIN_PIDS} or more")  # fmt: skip
    if pids > MAX_PIDS:
        raise SandboxError(f"--pids-limit {pids} is over the kernel's limit of {MAX_PIDS} processes: use a "
                           "smaller number, or omit it for no limit")  # fmt: skip
    return pids


def _memory(memory: int | None, swap: int | None) -> tuple[int | None, int | None]:
    for flag, value in (("--memory", memory), ("--memory-swap", swap)):
        if value is not None and value > MAX_SIZE:
            raise SandboxError(
                f"{flag} {value} is over 8 EiB, the kernel's limit: use a real size, e.g. 512m"
            )
    if memory is None or memory <= 0:
        if swap is not None and swap > 0:
            raise SandboxError("--memory-swap needs --memory: set both (e.g. --memory 512m --memory-swap 1g)")
        return None, None
    if memory < MIN_MEMORY:
        raise SandboxError(f"--memory {memory} is below the minimum: use at least 6m")
    if swap is None or swap == 0:
        return memory, min(2 * memory, MAX_SIZE)  # docker: as much swap as memory
    if swap < 0:
        return memory, None
    if swap < memory:
        raise SandboxError("--memory-swap is below --memory: it counts memory plus swap, use >= --memory")
    return memory, swap


def _cpu_quota(cpus: float | None) -> int | None:
    if cpus is None:
        return None
    available = os.cpu_count() or 1
    if not MIN_CPUS <= cpus <= available:
        raise SandboxError(f"--cpus {cpus} is out of range: use {MIN_CPUS} to {available} on this machine")
    return max(1000, round(cpus * CPU_PERIOD_US))


def _cpuset(cpus: str | None) -> str | None:
    if cpus is None:
        return None
    text = cpus.replace(" ", "")
    if not is_cpu_list(text):
        raise SandboxError(f"--cpuset-cpus {cpus!r} is not a cpu list: use e.g. 0-1 or 0,2")
    return text


def _io_weight(weight: int | None) -> int | None:
    if weight is None:
        return None
    if weight not in IO_WEIGHTS:
        raise SandboxError(f"io weight {weight} is out of range: use {IO_WEIGHTS[0]} to {IO_WEIGHTS[-1]}")
    return weight


def v2_io_weight(weight: int) -> int:
    """docker's 10..1000 blkio scale onto cgroup v2's 1..10000 io.weight (runc's conversion)."""
    return 1 + (weight - 10) * 9999 // 990


def host_has_swap() -> bool:
    try:
        with open("/proc/swaps") as fh:
            return len(fh.read().strip().splitlines()) > 1
    except OSError:
        return True
