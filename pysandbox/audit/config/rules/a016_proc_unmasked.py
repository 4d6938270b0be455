"""PSB-A016: /proc unmasked (procMount: Unmasked, systempaths=unconfined, empty maskedPaths)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import baseline
from pysandbox.types import Finding, Severity

_HOW = {
    "kubernetes": "sets procMount: Unmasked",
    "compose": "sets security_opt systempaths=unconfined",
    "docker-inspect": "has no MaskedPaths",
    "oci": "has no linux.maskedPaths",
    "profile": "has empty filesystem.masked_paths",
}


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        if c.proc_unmasked and not c.privileged:
            yield RULE.finding(
                w,
                c,
                f"{_HOW[w.format]}: /proc/kcore, /proc/keys, /proc/sysrq-trigger and "
                "/sys/firmware are visible",
                c.line_of("proc_unmasked"),
            )


RULE = Rule(
    id="PSB-A016",
    severity=Severity.HIGH,
    title="/proc not masked",
    fix="Keep the runtime's masked paths: remove procMount: Unmasked / systempaths=unconfined, "
    "list Docker's masked paths in linux.maskedPaths.",
    aliases=(baseline("ProcMountType"),),
    check=check,
    fixes={
        "profile": "Keep Docker's masked paths in filesystem.masked_paths (remove the override).",
    },
)
