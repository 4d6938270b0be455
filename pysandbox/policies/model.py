"""The profile model: plain frozen dataclasses so the `run` fast path can use them without pydantic.

Untrusted YAML is validated by pydantic in `policies.validate`; validated profiles are cached as
JSON and rebuilt here by `from_dict` (trusted data, no validation needed).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

NetworkMode = Literal["none", "host", "slirp"]
IdMapMode = Literal["auto", "single", "subordinate", "host"]
RiskAction = Literal["refuse", "warn", "allow"]
AuditLevel = Literal["off", "events", "full"]

# Read by pydantic in policies.validate: unknown keys (typos) are errors.
_STRICT: Any = {"extra": "forbid"}

DOCKER_DEFAULT_CAPS: tuple[str, ...] = (
    "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
    "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
)  # fmt: skip

DOCKER_MASKED_PATHS: tuple[str, ...] = (
    "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    "/sys/devices/virtual/powercap",
)  # fmt: skip

DOCKER_READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
)  # fmt: skip


@dataclass(frozen=True)
class Namespaces:
    __pydantic_config__ = _STRICT

    user: bool = True
    mount: bool = True
    pid: bool = True
    net: bool = True
    ipc: bool = True
    uts: bool = True
    cgroup: bool = True


@dataclass(frozen=True)
class IdMapping:
    """How sandbox ids map to host ids. `host` shares the host's user namespace (unsafe)."""

    __pydantic_config__ = _STRICT

    mode: IdMapMode = "auto"
    size: int = 65536


@dataclass(frozen=True)
class UserSpec:
    __pydantic_config__ = _STRICT

    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    """The capabilities the workload keeps, in all five sets; everything else is dropped."""

    __pydantic_config__ = _STRICT

    keep: tuple[str, ...] = ()


@dataclass(frozen=True)
class Seccomp:
    """A built-in name (`strict`, `default`), a path to Docker/OCI seccomp JSON, or `unconfined`."""

    __pydantic_config__ = _STRICT

    profile: str = "default"


@dataclass(frozen=True)
class Filesystem:
    __pydantic_config__ = _STRICT

    read_only_root: bool = False
    masked_paths: tuple[str, ...] = DOCKER_MASKED_PATHS
    readonly_paths: tuple[str, ...] = DOCKER_READONLY_PATHS
    tmp_size: int | None = 64 * 1024 * 1024  # bytes; size of the fresh /tmp tmpfs
    upper_size: int | None = None  # bytes; size of the tmpfs holding the overlay upper dir
    sys: Literal["ro", "none"] = "ro"


@dataclass(frozen=True)
class MountPolicy:
    __pydantic_config__ = _STRICT

    denied_host_paths: tuple[str, ...] = ()
    allowed_options: tuple[str, ...] = ("ro", "rw", "nosuid", "nodev", "noexec")
    risky: RiskAction = "warn"
    allow_volumes: bool = True


@dataclass(frozen=True)
class Network:
    __pydantic_config__ = _STRICT

    mode: NetworkMode = "none"


@dataclass(frozen=True)
class Limits:
    __pydantic_config__ = _STRICT

    memory: int | None = None  # bytes
    memory_swap: int | None = None  # bytes, memory + swap as docker's --memory-swap
    cpus: float | None = None
    cpuset_cpus: str | None = None
    pids: int | None = None
    io_weight: int | None = None


@dataclass(frozen=True)
class Rlimit:
    __pydantic_config__ = _STRICT

    name: str  # nofile, nproc, core, fsize, as, stack, cpu, memlock, ...
    soft: int  # -1 means unlimited
    hard: int


@dataclass(frozen=True)
class Lsm:
    __pydantic_config__ = _STRICT

    selinux_label: str | None = None
    apparmor_profile: str | None = None


@dataclass(frozen=True)
class Profile:
    __pydantic_config__ = _STRICT

    name: str
    description: str = ""
    namespaces: Namespaces = field(default_factory=Namespaces)
    idmap: IdMapping = field(default_factory=IdMapping)
    user: UserSpec = field(default_factory=UserSpec)
    hostname: str | None = None
    capabilities: Capabilities = field(default_factory=Capabilities)
    seccomp: Seccomp = field(default_factory=Seccomp)
    no_new_privs: bool = True
    filesystem: Filesystem = field(default_factory=Filesystem)
    mounts: MountPolicy = field(default_factory=MountPolicy)
    network: Network = field(default_factory=Network)
    limits: Limits = field(default_factory=Limits)
    rlimits: tuple[Rlimit, ...] = ()
    lsm: Lsm = field(default_factory=Lsm)
    audit: AuditLevel = "events"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def from_dict(cls: type[Any], data: Any) -> Any:
    """Rebuild a (nested) dataclass from `asdict` output of already validated data."""
    return _build(cls, data)


def _build(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = _hints(tp)
        return tp(**{k: _build(hints[k], v) for k, v in value.items() if k in hints})
    if origin is tuple:
        (item,) = typing.get_args(tp)[:1]
        return tuple(_build(item, v) for v in value)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _build(inner[0], value) if len(inner) == 1 else value
    return value


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]
