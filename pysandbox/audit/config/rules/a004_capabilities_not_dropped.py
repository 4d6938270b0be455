"""PSB-A004: the runtime's default capabilities are kept (no `drop: [ALL]`)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import restricted
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        # Formats that state the full set (OCI, profiles) have nothing implicit to drop: A002/A003 judge it.
        if c.caps_granted is not None or c.privileged or "ALL" in c.caps_drop:
            continue
        yield RULE.finding(
            w,
            c,
            "does not drop ALL capabilities: it keeps the runtime's defaults (NET_RAW, DAC_OVERRIDE, "
            "SETUID, ... 14 in Docker)",
            c.line_of("cap_drop") if c.caps_drop else c.line,
        )


RULE = Rule(
    id="PSB-A004",
    severity=Severity.LOW,
    title="Capabilities not dropped",
    fix="Drop ALL capabilities (`cap_drop: [ALL]`, `capabilities: {drop: [ALL]}`) and add back only "
    "what is needed.",
    aliases=(restricted("Capabilities"), "docker-bench:5.3", "CKV_K8S_37"),
    check=check,
)
