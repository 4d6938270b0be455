"""The normalized workload model every loader produces and every rule reads.

Values keep the meaning of the source format where formats disagree on defaults: `None` means
"not set in the file", and rules decide what an unset value means for `Workload.format`
(an unset seccomp profile is Docker's default profile in compose, but Unconfined on most
Kubernetes nodes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Format = Literal["compose", "kubernetes", "oci", "docker-inspect", "profile"]

FORMAT_NAMES: dict[str, str] = {
    "compose": "docker-compose file",
    "kubernetes": "Kubernetes manifest",
    "oci": "OCI runtime config.json",
    "docker-inspect": "docker inspect JSON",
    "profile": "pysandbox profile",
}

# Host paths enter a workload through these mount kinds; the others are storage the engine manages.
HOST_MOUNT_KINDS = frozenset({"bind", "hostPath", "host-sysfs", "host-cgroupfs"})


@dataclass
class Mount:
    target: str | None  # path in the container; None for a declared volume no container mounts
    source: str | None  # host path for host mounts, volume name or None otherwise
    kind: str  # bind, hostPath, host-sysfs, host-cgroupfs (writable), volume, tmpfs, a volume type, ...
    read_only: bool = False
    propagation: str | None = None  # as written: rshared, shared, Bidirectional, ...
    host_path_type: str | None = None  # Kubernetes hostPath.type (Socket, Directory, ...)
    volume: str | None = None  # Kubernetes volume name
    line: int | None = None  # where it is mounted
    source_line: int | None = None  # where the host path is written, when elsewhere (Kubernetes volumes)
    in_project: bool = False  # a compose source relative to the project that stays inside it (./data)

    @property
    def is_host(self) -> bool:
        return self.kind in HOST_MOUNT_KINDS and bool(self.source)


@dataclass
class Port:
    container_port: str | None
    host_port: int | None
    host_ip: str | None = None
    protocol: str = "tcp"
    line: int | None = None


@dataclass
class Device:
    path: str  # host device path, or a description such as "all devices (a *:* rwm)"
    all_devices: bool = False
    line: int | None = None


@dataclass
class Sysctl:
    name: str
    value: str
    line: int | None = None


@dataclass
class Container:
    name: str
    line: int | None = None
    role: str = "container"  # container, initContainer, ephemeralContainer
    image: str | None = None
    privileged: bool = False
    host_process: bool = False  # Windows HostProcess (Kubernetes)
    caps_add: tuple[str, ...] = ()
    caps_drop: tuple[str, ...] = ()
    caps_granted: frozenset[str] | None = None  # the full set, where the format states it (OCI, profile)
    user: str | None = None  # as written: "0", "root", "1000:1000", "nobody"
    run_as_user: int | None = None
    run_as_non_root: bool | None = None
    user_namespace: bool = False  # ids are remapped, so uid 0 inside is not root on the host
    read_only_root: bool | None = None
    seccomp: str | None = None  # unconfined, runtimedefault, localhost/..., default, a path, allow-default
    apparmor: str | None = None  # unconfined, runtime/default, localhost/..., a profile name
    selinux_type: str | None = None
    selinux_user: str | None = None
    selinux_role: str | None = None
    selinux_disabled: bool = False
    allow_privilege_escalation: bool | None = None  # False: no_new_privs is set
    memory_limit: str | None = None
    cpu_limit: str | None = None
    pids_limit: str | None = None
    devices: list[Device] = field(default_factory=list)
    proc_unmasked: bool = False  # procMount Unmasked, systempaths=unconfined, empty maskedPaths
    ports: list[Port] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    lines: dict[str, int | None] = field(default_factory=dict)  # field name -> line where it is set

    def line_of(self, name: str) -> int | None:
        line = self.lines.get(name)
        return line if line is not None else self.line


@dataclass
class Workload:
    path: str
    format: Format
    kind: str  # service, Pod, Deployment, ..., container, bundle, profile
    name: str
    line: int | None = None
    containers: list[Container] = field(default_factory=list)
    # Namespaces shared with the host: net, pid, ipc, uts, mount, cgroup, user -> why, where.
    host_namespaces: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    sysctls: list[Sysctl] = field(default_factory=list)
    volumes: list[Mount] = field(default_factory=list)  # declared at pod level (Kubernetes)
    risky_mount_policy: str | None = None  # pysandbox profile `mounts.risky`
    lines: dict[str, int | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"

    def line_of(self, name: str) -> int | None:
        line = self.lines.get(name)
        return line if line is not None else self.line
