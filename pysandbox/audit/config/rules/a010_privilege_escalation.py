"""PSB-A010: privilege escalation allowed (allowPrivilegeEscalation, no-new-privileges, noNewPrivileges)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Container, Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import restricted
from pysandbox.types import Finding, Severity

_FIELD = {
    "kubernetes": "allowPrivilegeEscalation",
    "oci": "process.noNewPrivileges",
    "profile": "no_new_privs",
}


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        if c.allow_privilege_escalation is False:
            continue
        severity, message = _case(w, c)
        yield RULE.finding(
            w,
            c,
            f"{message}: setuid binaries and file capabilities can raise its privileges",
            c.line_of("allow_privilege_escalation"),
            severity=severity,
        )


def _case(w: Workload, c: Container) -> tuple[Severity, str]:
    explicit = c.allow_privilege_escalation is True
    if w.format == "kubernetes":
        if explicit:
            return Severity.MEDIUM, "sets allowPrivilegeEscalation: true"
        return Severity.LOW, "does not set allowPrivilegeEscalation: false"
    if w.format in ("oci", "profile"):
        return Severity.MEDIUM, f"{_FIELD[w.format]} is false"
    if explicit:
        return Severity.MEDIUM, "sets no-new-privileges:false"
    return Severity.LOW, "does not set security_opt no-new-privileges:true"


RULE = Rule(
    id="PSB-A010",
    severity=Severity.MEDIUM,
    title="Privilege escalation allowed",
    fix="Set `allowPrivilegeEscalation: false` (Kubernetes), `security_opt: [no-new-privileges:true]` "
    "(compose), `noNewPrivileges: true` (OCI).",
    aliases=(restricted("PrivilegeEscalation"), "docker-bench:5.25", "CKV_K8S_20"),
    check=check,
    fixes={
        "profile": "Set `no_new_privs: true`.",
        "oci": "Set process.noNewPrivileges to true.",
    },
)
