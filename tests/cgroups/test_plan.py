"""Limits -> values, with docker's semantics; and the lines the launcher prints when one was hit."""

from __future__ import annotations

import os

import pytest

from pysandbox.policies.model import Limits
from pysandbox.sandbox.cgroups import CgroupStats, describe
from pysandbox.sandbox.cgroups.plan import Plan, has_limits, make_plan, v2_io_weight
from pysandbox.types import SandboxError

MiB = 1 << 20


def test_plan_values() -> None:
    plan = make_plan(Limits(memory=64 * MiB, cpus=1.5, cpuset_cpus="0", pids=100, io_weight=10))
    assert plan == Plan(
        memory=64 * MiB, memsw=128 * MiB, cpu_quota_us=150_000, cpuset="0", pids=100, io_weight=10
    )
    assert plan.controllers() == ("memory", "cpu", "cpuset", "pids", "io")


def test_unlimited_pids_and_no_limits() -> None:
    assert make_plan(Limits(pids=-1)).pids is None
    assert not has_limits(Limits())
    assert has_limits(Limits(pids=1))


@pytest.mark.parametrize("weight", [5, 1001])
def test_io_weight_range(weight: int) -> None:
    with pytest.raises(SandboxError, match=r"io weight \d+ is out of range: use 10 to 1000"):
        make_plan(Limits(io_weight=weight))


def test_v2_io_weight_scale() -> None:
    assert (v2_io_weight(10), v2_io_weight(1000)) == (1, 10000)


def test_cpus_bounded_by_machine() -> None:
    with pytest.raises(SandboxError, match=f"use 0.01 to {os.cpu_count()} on this machine"):
        make_plan(Limits(cpus=0.001))


def test_describe() -> None:
    limits = Limits(memory=512 * MiB, pids=64)
    assert describe(CgroupStats(), limits) == []
    assert describe(CgroupStats(oom_kills=2, pids_limit_hits=1), limits) == [
        "out of memory: the kernel killed 2 processes at the --memory limit of 512 MiB",
        "process limit reached: 1 fork was refused at the --pids-limit of 64",
    ]


def test_unlimited_swap_and_sizes_near_the_kernel_maximum() -> None:
    assert make_plan(Limits(memory=64 * MiB, memory_swap=-1)) == Plan(memory=64 * MiB, memsw=None)
    near = (1 << 63) - (1 << 30)  # accepted: the kernel rounds it down to its own maximum
    assert make_plan(Limits(memory=near)).memsw == (1 << 63) - 1  # docker's 2 x memory, capped


@pytest.mark.parametrize(
    ("limits", "flag"),
    [(Limits(memory=1 << 63), "--memory"), (Limits(memory=64 * MiB, memory_swap=1 << 80), "--memory-swap")],
)
def test_sizes_past_the_kernel_are_refused(limits: Limits, flag: str) -> None:
    with pytest.raises(SandboxError, match=f"{flag} \\d+ is over 8 EiB, the kernel's limit"):
        make_plan(limits)
