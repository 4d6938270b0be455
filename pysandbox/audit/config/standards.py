"""Kubernetes Pod Security Standards (baseline, restricted): the lists the controls allow, and the
compliance verdict of a workload, derived from the PSS aliases its findings carry.

Alias spellings used by the rules: `PSS-baseline:<Control>` / `PSS-restricted:<Control>` (the controls
below), `docker-bench:5.x` (docker-bench-security's check numbers, CIS Docker Benchmark 1.2/1.3 numbering,
e.g. 5.31 for the Docker socket; CIS 1.6 moved section 5 down by one), checkov `CKV_K8S_n` / `CKV_DOCKER_n`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pysandbox.types import Finding

Standard = Literal["baseline", "restricted"]

BASELINE_CONTROLS = (
    "HostProcess",
    "HostNamespaces",
    "PrivilegedContainers",
    "Capabilities",
    "HostPathVolumes",
    "HostPorts",
    "AppArmor",
    "SELinux",
    "ProcMountType",
    "Seccomp",
    "Sysctls",
)
RESTRICTED_CONTROLS = (
    "VolumeTypes",
    "PrivilegeEscalation",
    "RunningAsNonRoot",
    "RunningAsNonRootUser",
    "Seccomp",
    "Capabilities",
)

# Baseline: capabilities a container may add.
BASELINE_CAPS = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
# Restricted: drop ALL, add back at most this one.
RESTRICTED_CAPS = frozenset({"NET_BIND_SERVICE"})
# Baseline: the safe sysctl set (Kubernetes 1.29+).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
# Baseline: SELinux types a container may use.
SELINUX_TYPES = frozenset({"container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
# Restricted: the only volume types allowed.
RESTRICTED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


def baseline(control: str) -> str:
    assert control in BASELINE_CONTROLS, control
    return f"PSS-baseline:{control}"


def restricted(control: str) -> str:
    assert control in RESTRICTED_CONTROLS, control
    return f"PSS-restricted:{control}"


@dataclass(frozen=True)
class Verdict:
    standard: Standard
    failed: tuple[str, ...]  # controls, as "baseline:HostNamespaces"

    @property
    def compliant(self) -> bool:
        return not self.failed


def verdict(findings: Iterable[Finding], standard: Standard) -> Verdict:
    """Restricted includes baseline: a workload that fails a baseline control fails restricted too."""
    levels = ("baseline",) if standard == "baseline" else ("baseline", "restricted")
    failed = {
        alias.removeprefix("PSS-")
        for f in findings
        for alias in f.aliases
        if alias.startswith("PSS-") and alias[4:].split(":", 1)[0] in levels
    }
    return Verdict(standard, tuple(sorted(failed)))
