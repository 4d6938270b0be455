"""Config-audit rules, one module per rule; `ALL_RULES` in id order."""

from __future__ import annotations

from pysandbox.audit.config.rules import (
    a001_privileged,
    a002_dangerous_capabilities,
    a003_extra_capabilities,
    a004_capabilities_not_dropped,
    a005_host_namespaces,
    a006_host_ports,
    a007_seccomp_unconfined,
    a008_seccomp_not_set,
    a009_apparmor_unconfined,
    a010_privilege_escalation,
    a011_root_user,
    a012_writable_root,
    a013_resource_limits,
    a014_devices,
    a015_unsafe_sysctls,
    a016_proc_unmasked,
    a017_selinux,
    a018_sensitive_host_path,
    a019_host_path,
    a020_writable_host_mount,
    a021_mount_propagation,
    a022_volume_types,
    a023_risky_mount_policy,
)
from pysandbox.audit.config.rules.base import Rule

ALL_RULES: tuple[Rule, ...] = tuple(
    m.RULE
    for m in (
        a001_privileged,
        a002_dangerous_capabilities,
        a003_extra_capabilities,
        a004_capabilities_not_dropped,
        a005_host_namespaces,
        a006_host_ports,
        a007_seccomp_unconfined,
        a008_seccomp_not_set,
        a009_apparmor_unconfined,
        a010_privilege_escalation,
        a011_root_user,
        a012_writable_root,
        a013_resource_limits,
        a014_devices,
        a015_unsafe_sysctls,
        a016_proc_unmasked,
        a017_selinux,
        a018_sensitive_host_path,
        a019_host_path,
        a020_writable_host_mount,
        a021_mount_propagation,
        a022_volume_types,
        a023_risky_mount_policy,
    )
)
