"""PSB-A022: Kubernetes volume types the restricted standard does not allow (besides hostPath)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import RESTRICTED_VOLUME_TYPES, restricted
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    for vol in w.volumes:
        if vol.kind in RESTRICTED_VOLUME_TYPES or vol.kind == "hostPath":
            continue  # hostPath: PSB-A018/PSB-A019
        yield RULE.finding(
            w,
            None,
            f"uses volume {vol.volume} of type {vol.kind}, which the restricted standard does not allow",
            vol.line,
        )


RULE = Rule(
    id="PSB-A022",
    severity=Severity.LOW,
    title="Volume type not allowed by restricted",
    fix="Use configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or "
    "secret volumes.",
    aliases=(restricted("VolumeTypes"),),
    check=check,
)
