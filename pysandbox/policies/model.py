"""The profile model: frozen records the `run` fast path can use without pydantic.

Untrusted YAML is validated by pydantic in `policies.validate`, which sees these classes as the
standard dataclasses they are (`pysandbox.record`: made without the dataclasses machinery at
import, which the fast path would pay for in ms). Validated profiles are cached as JSON and rebuilt
by `from_dict` (trusted data: no validation, no type introspection).
"""

from __future__ import annotations

from pysandbox.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from typing import Any, Literal

    NetworkMode = Literal["none", "host", "slirp"]
    IdMapMode = Literal["auto", "single", "subordinate", "host"]
    RiskAction = Literal["refuse", "warn", "allow"]
    AuditLevel = Literal["off", "events", "full"]

# The values of the Literal types above, which pydantic sees once bind_annotation_names has run.
_LITERALS = {
    "NetworkMode": ("none", "host", "slirp"),
    "IdMapMode": ("auto", "single", "subordinate", "host"),
    "RiskAction": ("refuse", "warn", "allow"),
    "AuditLevel": ("off", "events", "full"),
}


def bind_annotation_names() -> None:
    """Defines the names the annotations use, for pydantic to resolve them (policies.validate).
    The `run` fast path reads cached profiles and never needs them: typing stays unimported."""
    from typing import Any, Literal

    names: dict[str, Any] = {"Any": Any, "Literal": Literal}
    names.update((alias, Literal[values]) for alias, values in _LITERALS.items())
    globals().update(names)


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


@record(frozen=True)
class Namespaces:
    """The namespaces the sandbox gets of its own (false: it shares the host's)."""

    __pydantic_config__ = _STRICT

    user: bool = True
    mount: bool = True
    pid: bool = True
    net: bool = True
    ipc: bool = True
    uts: bool = True
    cgroup: bool = True


@record(frozen=True)
class IdMapping:
    """How sandbox ids map to host ids. `host` shares the host's user namespace (unsafe)."""

    __pydantic_config__ = _STRICT

    mode: IdMapMode = "auto"
    size: int = 65536


@record(frozen=True)
class UserSpec:
    """The user and groups the workload runs as inside the sandbox."""

    __pydantic_config__ = _STRICT

    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()


@record(frozen=True)
class Capabilities:
    """The workload's capabilities; every capability not named here is dropped from all five sets.

    keep: the bounding set, and what a workload running as root inside (uid 0) holds: permitted =
        effective = keep, inheritable = ambient = empty (Docker's semantics).
    grant_non_root: what a workload running as any other uid holds (permitted = effective =
        inheritable = ambient; ambient so that it survives execve), each one also in keep. Empty
        (the default): a non-root workload has no capabilities at all, as under Docker and Podman;
        `--cap-add X` puts X in keep and here, as Podman gives a non-root user its --cap-add list.
    """

    __pydantic_config__ = _STRICT

    keep: tuple[str, ...] = ()
    grant_non_root: tuple[str, ...] = ()


@record(frozen=True)
class Seccomp:
    """A built-in name (`strict`, `default`), a path to Docker/OCI seccomp JSON, or `unconfined`."""

    __pydantic_config__ = _STRICT

    profile: str = "default"


@record(frozen=True)
class Filesystem:
    """The root filesystem and the /proc, /sys and /tmp mounts."""

    __pydantic_config__ = _STRICT

    read_only_root: bool = False
    masked_paths: tuple[str, ...] = DOCKER_MASKED_PATHS
    readonly_paths: tuple[str, ...] = DOCKER_READONLY_PATHS
    tmp_size: int | None = 64 * 1024 * 1024  # bytes; size of the fresh /tmp tmpfs
    upper_size: int | None = None  # bytes; size of the tmpfs holding the overlay upper dir
    sys: Literal["ro", "none"] = "ro"


@record(frozen=True)
class MountPolicy:
    """What `-v` may bind: denied host paths, allowed options, risky mounts."""

    __pydantic_config__ = _STRICT

    denied_host_paths: tuple[str, ...] = ()
    allowed_options: tuple[str, ...] = ("ro", "rw", "nosuid", "nodev", "noexec")
    risky: RiskAction = "warn"
    allow_volumes: bool = True


@record(frozen=True)
class Network:
    """The network mode: none (own netns, lo only), host, or slirp (rootless NAT)."""

    __pydantic_config__ = _STRICT

    mode: NetworkMode = "none"
    allow_host_loopback: bool = False  # slirp: let the sandbox reach the host's 127.0.0.1 (unsafe)


@record(frozen=True)
class Limits:
    """cgroup limits (None: not limited)."""

    __pydantic_config__ = _STRICT

    memory: int | None = None  # bytes
    memory_swap: int | None = None  # bytes, memory + swap as docker's --memory-swap
    cpus: float | None = None
    cpuset_cpus: str | None = None
    pids: int | None = None
    io_weight: int | None = None


@record(frozen=True)
class Rlimit:
    """One resource limit (setrlimit)."""

    __pydantic_config__ = _STRICT

    name: str  # nofile, nproc, core, fsize, as, stack, cpu, memlock, ...
    soft: int  # -1 means unlimited
    hard: int


@record(frozen=True)
class Lsm:
    """An SELinux exec label and/or an AppArmor profile for the workload."""

    __pydantic_config__ = _STRICT

    selinux_label: str | None = None
    apparmor_profile: str | None = None


@record(frozen=True)
class Profile:
    """A sandbox profile: every restriction one sandbox runs under."""

    __pydantic_config__ = _STRICT

    name: str
    description: str = ""
    namespaces: Namespaces = Namespaces()
    idmap: IdMapping = IdMapping()
    user: UserSpec = UserSpec()
    hostname: str | None = None
    capabilities: Capabilities = Capabilities()
    seccomp: Seccomp = Seccomp()
    no_new_privs: bool = True
    filesystem: Filesystem = Filesystem()
    mounts: MountPolicy = MountPolicy()
    network: Network = Network()
    limits: Limits = Limits()
    rlimits: tuple[Rlimit, ...] = ()
    lsm: Lsm = Lsm()
    audit: AuditLevel = "events"

    def to_dict(self) -> dict[str, Any]:
        import dataclasses

        return dataclasses.asdict(self)


def from_dict(cls: type[Any], data: Any) -> Any:
    """Rebuild a (nested) record from `to_dict` output of already validated data."""
    nested = _nested(cls)
    kwargs = {}
    for key, value in data.items():
        kind = nested.get(key)
        if kind is None or value is None:
            kwargs[key] = tuple(value) if isinstance(value, list) else value
        elif kind[0]:
            kwargs[key] = tuple(from_dict(kind[1], v) for v in value)
        else:
            kwargs[key] = from_dict(kind[1], value)
    return cls(**kwargs)


def _nested(cls: type[Any]) -> dict[str, tuple[bool, type[Any]]]:
    """Fields of `cls` that hold records: name -> (a tuple of them?, their class), read from the
    annotation strings (`from __future__ import annotations`), which name classes of this module."""
    known: dict[str, tuple[bool, type[Any]]] | None = cls.__dict__.get("_nested_records")
    if known is not None:
        return known
    out = {}
    for name, annotation in cls.__annotations__.items():
        text = str(annotation).removesuffix(" | None")
        many = text.startswith("tuple[") and text.endswith(", ...]")
        target = globals().get(text[6:-6] if many else text)
        if isinstance(target, type) and "_record_spec" in target.__dict__:
            out[name] = (many, target)
    type.__setattr__(cls, "_nested_records", out)
    return out


def shape(cls: type[Any] = Profile) -> str:
    """The model's fields, nested records and plain defaults as one string (no typing, no
    dataclasses): a profile cached by another model must not be read as one of this model."""
    nested = _nested(cls)
    parts = []
    for name, default in cls._record_spec:
        kind = nested.get(name)
        if kind is None:  # a required field's default is record's private marker: no repr
            plain = default is None or isinstance(default, (str, int, float, tuple))
            parts.append(f"{name}={default!r}" if plain else name)
        else:
            parts.append(f"{name}{'*' if kind[0] else ''}({shape(kind[1])})")
    return ",".join(parts)
