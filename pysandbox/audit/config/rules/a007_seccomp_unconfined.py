"""PSB-A007: seccomp disabled (unconfined, no filter in config.json, or allow-by-default)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import baseline, restricted
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        if c.seccomp == "unconfined":
            how = "has no linux.seccomp filter" if w.format == "oci" else "runs seccomp unconfined"
            yield RULE.finding(
                w,
                c,
                f"{how}: every syscall reaches the kernel (keyctl, bpf, userfaultfd, ...)",
                c.line_of("seccomp"),
            )
        elif c.seccomp == "allow-default":
            yield RULE.finding(
                w,
                c,
                "seccomp filter allows every syscall it does not list (defaultAction SCMP_ACT_ALLOW)",
                c.line_of("seccomp"),
                severity=Severity.MEDIUM,
            )


RULE = Rule(
    id="PSB-A007",
    severity=Severity.HIGH,
    title="Seccomp unconfined",
    fix="Use the runtime's default seccomp profile (RuntimeDefault, Docker's default) or a stricter one.",
    aliases=(baseline("Seccomp"), restricted("Seccomp"), "docker-bench:5.21", "CKV_K8S_31"),
    check=check,
    fixes={
        "profile": "Set `seccomp.profile` to strict or default.",
        "oci": "Add a linux.seccomp filter with defaultAction SCMP_ACT_ERRNO (moby's default profile).",
    },
)
