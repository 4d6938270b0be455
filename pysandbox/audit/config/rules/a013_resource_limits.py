"""PSB-A013: no memory, CPU or PIDs limit."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.types import Finding, Severity

# limit -> what exhausting it does, aliases
_LIMITS = {
    "memory_limit": (
        "memory",
        "it can exhaust host memory and trigger the host OOM killer",
        ("docker-bench:5.10", "CKV_K8S_13"),
    ),
    "cpu_limit": ("CPU", "it can starve other workloads of CPU", ("docker-bench:5.11", "CKV_K8S_11")),
    "pids_limit": ("PIDs", "a fork bomb exhausts the host's process table", ("docker-bench:5.28",)),
}


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        for attr, (what, why, aliases) in _LIMITS.items():
            # Kubernetes has no per-container PIDs limit: the kubelet sets it per pod.
            if attr == "pids_limit" and w.format == "kubernetes":
                continue
            if getattr(c, attr) is None:
                yield RULE.finding(w, c, f"has no {what} limit: {why}", c.line, aliases=aliases)


RULE = Rule(
    id="PSB-A013",
    severity=Severity.LOW,
    title="No resource limit",
    fix="Set memory, CPU and PIDs limits (`resources.limits`, `mem_limit`/`cpus`/`pids_limit`, "
    "`linux.resources`).",
    aliases=("docker-bench:5.10", "docker-bench:5.11", "docker-bench:5.28", "CKV_K8S_13", "CKV_K8S_11"),
    check=check,
    fixes={
        "profile": "Set `limits.memory`, `limits.cpus` and `limits.pids`.",
        "oci": "Set linux.resources memory.limit, cpu.quota and pids.limit.",
    },
)
