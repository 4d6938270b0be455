"""PSB-A018: sensitive host paths mounted (docker.sock, /, /proc, /sys, /etc, /var/lib/kubelet, ...).

The judgement is `pysandbox.audit.mountrisk`, the same code the launcher applies to `-v`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit import mountrisk
from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.rules.mounts import HOST_PATH_ALIASES, host_mounts, sensitive, where
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    for c, m in host_mounts(w):
        risk = sensitive(m)
        if risk is None or m.source is None:
            continue
        mode = "read-only" if m.read_only else "read-write"
        via = "" if risk.matched == mountrisk.normalize(m.source) else f" ({risk.matched})"
        aliases = (
            [*HOST_PATH_ALIASES, *risk.aliases] if m.kind in ("bind", "hostPath") else list(risk.aliases)
        )
        yield RULE.finding(
            w,
            c,
            f"mounts {where(m)}{via} {mode}: {risk.reason}",
            m.source_line or m.line,
            severity=risk.severity,
            aliases=aliases,
        )


RULE = Rule(
    id=mountrisk.RULE_ID,
    severity=Severity.HIGH,
    title=mountrisk.TITLE,
    fix=mountrisk.FIX,
    aliases=(*HOST_PATH_ALIASES, "docker-bench:5.5", "docker-bench:5.31", "CKV_K8S_27"),
    check=check,
)
