"""PSB-A017: SELinux labelling disabled or set to a type, user or role containers must not use."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import SELINUX_TYPES, baseline
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        line = c.line_of("selinux")
        if c.selinux_disabled:
            yield RULE.finding(w, c, "disables SELinux labelling (label=disable)", line)
        if c.selinux_type and c.selinux_type not in SELINUX_TYPES:
            yield RULE.finding(
                w,
                c,
                f"runs with SELinux type {c.selinux_type}, not a container type "
                f"({', '.join(sorted(SELINUX_TYPES))})",
                line,
            )
        for what in ("user", "role"):
            value = getattr(c, f"selinux_{what}")
            if value:
                yield RULE.finding(w, c, f"sets SELinux {what} {value}", line)


RULE = Rule(
    id="PSB-A017",
    severity=Severity.MEDIUM,
    title="SELinux confinement weakened",
    fix="Leave SELinux labelling to the runtime (container_t); do not set label=disable or a custom "
    "user or role.",
    aliases=(baseline("SELinux"), "docker-bench:5.2"),
    check=check,
)
