"""Resource limits (setrlimit) from the profile: resolved in the launcher, set in the workload."""

from __future__ import annotations

import resource

from pysandbox.policies.model import Rlimit
from pysandbox.record import record
from pysandbox.types import SandboxError

RESOURCES: dict[str, int] = {
    "as": resource.RLIMIT_AS,
    "core": resource.RLIMIT_CORE,
    "cpu": resource.RLIMIT_CPU,
    "data": resource.RLIMIT_DATA,
    "fsize": resource.RLIMIT_FSIZE,
    "locks": getattr(resource, "RLIMIT_LOCKS", 10),
    "memlock": resource.RLIMIT_MEMLOCK,
    "msgqueue": getattr(resource, "RLIMIT_MSGQUEUE", 12),
    "nice": getattr(resource, "RLIMIT_NICE", 13),
    "nofile": resource.RLIMIT_NOFILE,
    "nproc": resource.RLIMIT_NPROC,
    "rss": resource.RLIMIT_RSS,
    "rtprio": getattr(resource, "RLIMIT_RTPRIO", 14),
    "rttime": getattr(resource, "RLIMIT_RTTIME", 15),
    "sigpending": getattr(resource, "RLIMIT_SIGPENDING", 11),
    "stack": resource.RLIMIT_STACK,
}


@record(frozen=True)
class Setting:
    name: str
    resource: int
    soft: int
    hard: int


def _value(v: int) -> int:
    return resource.RLIM_INFINITY if v < 0 else v


def _lower(a: int, b: int) -> int:
    if a == resource.RLIM_INFINITY:
        return b
    if b == resource.RLIM_INFINITY:
        return a
    return min(a, b)


def resolve(limits: tuple[Rlimit, ...]) -> tuple[tuple[Setting, ...], tuple[str, ...]]:
    """The settings to apply and notices for limits lowered to what this process may set.

    A hard limit above the launcher's own cannot be raised without CAP_SYS_RESOURCE in the initial
    user namespace; it is lowered to the current hard limit, which only makes the sandbox tighter.
    """
    settings: list[Setting] = []
    notices: list[str] = []
    for rl in limits:
        name = rl.name.lower().removeprefix("rlimit_")
        if name not in RESOURCES:
            known = ", ".join(sorted(RESOURCES))
            raise SandboxError(f"unknown rlimit {rl.name!r}: use one of {known}")
        soft, hard = _value(rl.soft), _value(rl.hard)
        if _lower(soft, hard) != soft:
            raise SandboxError(f"rlimit {name}: soft limit {rl.soft} is above the hard limit {rl.hard}")
        _, cur_hard = resource.getrlimit(RESOURCES[name])
        if _lower(hard, cur_hard) != hard:
            notices.append(
                f"rlimit {name}: hard limit lowered from {rl.hard} to {cur_hard} (the launcher's own limit)"
            )
            hard = cur_hard
            soft = _lower(soft, hard)
        settings.append(Setting(name, RESOURCES[name], soft, hard))
    return tuple(settings), tuple(notices)


def apply(settings: tuple[Setting, ...]) -> None:
    for s in settings:
        try:
            resource.setrlimit(s.resource, (s.soft, s.hard))
        except (OSError, ValueError) as exc:
            raise SandboxError(f"cannot set rlimit {s.name} to {s.soft}/{s.hard}: {exc}") from None
