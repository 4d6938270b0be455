"""PSB-A021: shared mount propagation (shared, rshared, Kubernetes Bidirectional)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.types import Finding, Severity

_SHARED = {"shared", "rshared", "bidirectional"}


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        for m in c.mounts:
            if (m.propagation or "").lower() in _SHARED:
                yield RULE.finding(
                    w,
                    c,
                    f"mounts {m.target} with {m.propagation} propagation: mounts the container "
                    "makes appear on the host",
                    m.line,
                )


RULE = Rule(
    id="PSB-A021",
    severity=Severity.MEDIUM,
    title="Shared mount propagation",
    fix="Use private (the default) or slave propagation (`HostToContainer` in Kubernetes).",
    aliases=("docker-bench:5.19",),
    check=check,
)
