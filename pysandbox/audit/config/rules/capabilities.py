"""Capability classes the capability rules share."""

from __future__ import annotations

from pysandbox.audit.config.model import Container
from pysandbox.types import Severity

C, H, M = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM

# Capabilities that break container isolation or reach the host, with why.
DANGEROUS: dict[str, tuple[Severity, str]] = {
    "ALL": (C, "every capability, as good as privileged"),
    "SYS_ADMIN": (C, "mount, namespaces, BPF, cgroup release_agent escapes: 'the new root'"),
    "SYS_MODULE": (C, "loads kernel modules into the host kernel"),
    "SYS_RAWIO": (C, "raw I/O ports and /dev/mem access"),
    "DAC_READ_SEARCH": (C, "open_by_handle_at reads any host file (the 'shocker' escape)"),
    "SYS_PTRACE": (H, "traces and injects code into other processes (host ones with a shared PID namespace)"),
    "BPF": (H, "loads BPF programs into the kernel"),
    "PERFMON": (H, "kernel performance monitoring and BPF tracing of the host"),
    "NET_ADMIN": (H, "reconfigures networking: interfaces, routes, firewall, sniffing"),
    "SYS_BOOT": (H, "reboots the host or loads a new kernel"),
    "SYS_TIME": (H, "sets the host clock"),
    "MAC_ADMIN": (H, "reconfigures AppArmor/SELinux"),
    "MAC_OVERRIDE": (H, "bypasses AppArmor/SELinux"),
    "AUDIT_CONTROL": (H, "disables or rewrites kernel auditing"),
    "CHECKPOINT_RESTORE": (M, "checkpoint/restore of other processes"),
    "SYSLOG": (M, "reads the kernel log, leaking kernel addresses"),
    "NET_RAW": (M, "raw sockets: spoofing and ARP/DNS poisoning on the host network"),
    "SYS_RESOURCE": (M, "overrides resource limits and quotas"),
    "LINUX_IMMUTABLE": (M, "changes immutable and append-only file flags"),
}


def granted_or_added(c: Container) -> tuple[str, ...]:
    """The capabilities the configuration itself asks for: the full set where the format states it."""
    if c.caps_granted is not None:
        return tuple(sorted(c.caps_granted))
    return c.caps_add
