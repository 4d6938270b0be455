"""PSB-A015: sysctls outside the Pod Security Standards' safe set."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import SAFE_SYSCTLS, baseline
from pysandbox.types import Finding, Severity

# Host-wide knobs an escape is built from: the kernel runs these helpers as root on the host.
_ESCAPES = {
    "kernel.core_pattern",
    "kernel.modprobe",
    "kernel.hotplug",
    "kernel.poweroff_cmd",
    "kernel.usermodehelper",
    "fs.binfmt_misc",
}
_NAMESPACED = ("net.", "kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue.")


def check(w: Workload) -> Iterator[Finding]:
    for s in w.sysctls:
        if s.name in SAFE_SYSCTLS:
            continue
        if any(s.name == e or s.name.startswith(e + ".") for e in _ESCAPES):
            severity, why = (
                Severity.CRITICAL,
                "a host-wide kernel helper path: setting it is a container escape",
            )
        elif s.name.startswith(_NAMESPACED):
            severity, why = Severity.LOW, "namespaced, but outside the safe set"
        else:
            severity, why = Severity.HIGH, "not namespaced: it changes the whole host kernel"
        yield RULE.finding(
            w, None, f"sets sysctl {s.name}={s.value}: {why}", s.line or w.line, severity=severity
        )


RULE = Rule(
    id="PSB-A015",
    severity=Severity.MEDIUM,
    title="Unsafe sysctl",
    fix="Set only the safe sysctls (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, "
    "net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, ...).",
    aliases=(baseline("Sysctls"),),
    check=check,
)
