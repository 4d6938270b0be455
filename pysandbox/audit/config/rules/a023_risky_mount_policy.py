"""PSB-A023: a pysandbox profile that lets risky host mounts through."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    policy = w.risky_mount_policy
    line = w.line_of("risky_mount_policy")
    if policy == "allow":
        yield RULE.finding(
            w,
            None,
            "mounts.risky: allow lets `-v /var/run/docker.sock`, `-v /:/host` and other "
            "risky host mounts through silently",
            line,
        )
    elif policy == "warn":
        yield RULE.finding(
            w,
            None,
            "mounts.risky: warn mounts risky host paths after a warning",
            line,
            severity=Severity.INFO,
        )


RULE = Rule(
    id="PSB-A023",
    severity=Severity.MEDIUM,
    title="Profile allows risky host mounts",
    fix="Set `mounts.risky: refuse` (risky mounts then need --allow-unsafe, which is audited).",
    aliases=(),
    check=check,
)
