"""PSB-A002: dangerous capabilities added (SYS_ADMIN, SYS_PTRACE, SYS_MODULE, NET_ADMIN, ALL, ...)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.rules.capabilities import DANGEROUS, granted_or_added
from pysandbox.audit.config.standards import baseline, restricted
from pysandbox.types import Finding, Severity

_BY_CAP = {"SYS_ADMIN": "CKV_K8S_39", "NET_RAW": "CKV_K8S_28"}


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        verb = "keeps" if c.caps_granted is not None else "adds"
        for cap in granted_or_added(c):
            if cap not in DANGEROUS:
                continue
            severity, why = DANGEROUS[cap]
            aliases = [baseline("Capabilities"), restricted("Capabilities"), "docker-bench:5.3", "CKV_K8S_25"]
            if cap in _BY_CAP:
                aliases.append(_BY_CAP[cap])
            yield RULE.finding(
                w,
                c,
                f"{verb} capability {cap}: {why}",
                c.line_of("cap_add"),
                severity=severity,
                aliases=aliases,
            )


RULE = Rule(
    id="PSB-A002",
    severity=Severity.HIGH,
    title="Dangerous capability added",
    fix="Remove the capability; if one privileged operation is needed, do it outside the container.",
    aliases=(
        baseline("Capabilities"),
        restricted("Capabilities"),
        "docker-bench:5.3",
        "CKV_K8S_25",
        "CKV_K8S_39",
        "CKV_K8S_28",
    ),
    check=check,
    fixes={
        "profile": "Remove it from capabilities.keep.",
        "oci": "Remove it from every set in process.capabilities.",
    },
)
