"""PSB-A012: the container's root filesystem is writable."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        if c.read_only_root is not True:
            yield RULE.finding(
                w,
                c,
                "has a writable root filesystem: an intruder can drop tools and change binaries",
                c.line_of("read_only_root"),
            )


RULE = Rule(
    id="PSB-A012",
    severity=Severity.LOW,
    title="Writable root filesystem",
    fix="Make the root filesystem read-only (`readOnlyRootFilesystem: true`, `read_only: true`, "
    "`root.readonly: true`) and mount a tmpfs or volume where it must write.",
    aliases=("docker-bench:5.12", "CKV_K8S_22"),
    check=check,
    fixes={
        "profile": "Set `filesystem.read_only_root: true`.",
        "oci": "Set root.readonly to true.",
    },
)
