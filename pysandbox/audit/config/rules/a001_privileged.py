"""PSB-A001: privileged containers (and Windows HostProcess containers)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import baseline
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        if c.privileged:
            yield RULE.finding(
                w,
                c,
                "runs privileged: every capability, all host devices, no seccomp, AppArmor or masked "
                "/proc paths; root in it is root on the host",
                c.line_of("privileged"),
                aliases=(baseline("PrivilegedContainers"), "docker-bench:5.4", "CKV_K8S_16"),
            )
        if c.host_process:
            yield RULE.finding(
                w,
                c,
                "runs as a Windows HostProcess container, with the node's full access",
                c.line,
                aliases=(baseline("HostProcess"),),
            )


RULE = Rule(
    id="PSB-A001",
    severity=Severity.CRITICAL,
    title="Privileged container",
    fix="Remove `privileged: true`; grant the one capability or device the workload needs instead.",
    aliases=(baseline("PrivilegedContainers"), baseline("HostProcess"), "docker-bench:5.4", "CKV_K8S_16"),
    check=check,
)
