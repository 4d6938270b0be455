"""PSB-A008: Kubernetes containers without a seccomp profile (Unconfined on most nodes)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import restricted
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    # Docker and compose apply their default profile when none is named; Kubernetes does not.
    if w.format != "kubernetes":
        return
    for c in w.containers:
        if c.seccomp is None:
            yield RULE.finding(
                w,
                c,
                "sets no seccompProfile: the kubelet runs it Unconfined unless the node "
                "enables SeccompDefault",
                c.line,
            )


RULE = Rule(
    id="PSB-A008",
    severity=Severity.MEDIUM,
    title="Seccomp profile not set",
    fix="Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.",
    aliases=(restricted("Seccomp"), "CKV_K8S_31"),
    check=check,
)
