"""PSB-A019: any other host path mounted (hostPath volumes, bind mounts)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Mount, Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.rules.mounts import HOST_PATH_ALIASES, host_mounts, sensitive, where
from pysandbox.types import Finding, Severity

# hostPath types that are not plain files or directories.
_TYPES = {
    "Socket": (Severity.HIGH, "a host service socket"),
    "BlockDevice": (Severity.HIGH, "a host block device"),
    "CharDevice": (Severity.MEDIUM, "a host character device"),
}


def check(w: Workload) -> Iterator[Finding]:
    for c, m in host_mounts(w):
        if sensitive(m) is not None:
            continue  # PSB-A018 reports it
        severity, why = _risk(m)
        yield RULE.finding(
            w,
            c,
            f"mounts {where(m)}{' read-only' if m.read_only else ''}: {why}",
            m.source_line or m.line,
            severity=severity,
            aliases=HOST_PATH_ALIASES,
        )


def _risk(m: Mount) -> tuple[Severity, str]:
    if m.host_path_type in _TYPES:
        return _TYPES[m.host_path_type]
    if m.kind == "hostPath":
        return Severity.LOW, "hostPath volumes tie the pod to a node and bypass volume isolation"
    return Severity.INFO, "the host directory is shared with the container"


RULE = Rule(
    id="PSB-A019",
    severity=Severity.LOW,
    title="Host path mounted",
    fix="Prefer a volume (emptyDir, persistentVolumeClaim, a named volume); mount host paths read-only.",
    aliases=HOST_PATH_ALIASES,
    check=check,
)
