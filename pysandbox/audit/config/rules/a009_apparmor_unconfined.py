"""PSB-A009: AppArmor disabled (unconfined)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import baseline
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        if c.apparmor is not None and c.apparmor.strip().lower() == "unconfined":
            yield RULE.finding(
                w,
                c,
                "runs AppArmor unconfined: no mandatory access control on files, mounts and /proc",
                c.line_of("apparmor"),
            )


RULE = Rule(
    id="PSB-A009",
    severity=Severity.MEDIUM,
    title="AppArmor unconfined",
    fix="Use the runtime's default AppArmor profile (RuntimeDefault, docker-default) or a custom one.",
    aliases=(baseline("AppArmor"), "docker-bench:5.1"),
    check=check,
    fixes={
        "profile": "Remove `lsm.apparmor_profile: unconfined` or name a profile.",
        "oci": "Set process.apparmorProfile to a loaded profile.",
    },
)
