"""PSB-A005: namespaces shared with the host (network, PID, IPC, UTS, mount, cgroup, user)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import baseline
from pysandbox.types import Finding, Severity

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW
PSS = baseline("HostNamespaces")
# namespace -> severity, consequence, aliases
_NAMESPACES: dict[str, tuple[Severity, str, tuple[str, ...]]] = {
    "mount": (C, "it sees and changes the host's mounts", ()),
    "net": (
        H,
        "it reaches every host interface and localhost-only service",
        (PSS, "docker-bench:5.9", "CKV_K8S_19"),
    ),
    "pid": (H, "it sees, signals and ptraces host processes", (PSS, "docker-bench:5.15", "CKV_K8S_17")),
    "ipc": (M, "it reaches host shared memory and semaphores", (PSS, "docker-bench:5.16", "CKV_K8S_18")),
    "user": (M, "its ids are host ids: root inside is root on the host", ("docker-bench:5.30",)),
    "uts": (L, "it can change the host's hostname", ("docker-bench:5.20",)),
    "cgroup": (L, "it sees the host's cgroup hierarchy", ()),
}
_NAMES = {
    "net": "network",
    "pid": "PID",
    "ipc": "IPC",
    "uts": "UTS",
    "mount": "mount",
    "cgroup": "cgroup",
    "user": "user",
}


def check(w: Workload) -> Iterator[Finding]:
    for ns, (how, line) in sorted(w.host_namespaces.items(), key=lambda kv: -_NAMESPACES[kv[0]][0]):
        severity, consequence, aliases = _NAMESPACES[ns]
        yield RULE.finding(
            w,
            None,
            f"shares the host {_NAMES[ns]} namespace ({how}): {consequence}",
            line,
            severity=severity,
            aliases=aliases,
        )


RULE = Rule(
    id="PSB-A005",
    severity=Severity.HIGH,
    title="Host namespace shared",
    fix="Give the workload its own namespaces: remove hostNetwork/hostPID/hostIPC, `network_mode: host`, "
    "`pid: host`, `ipc: host`, `uts: host`, `userns_mode: host`.",
    aliases=(
        PSS,
        "docker-bench:5.9",
        "docker-bench:5.15",
        "docker-bench:5.16",
        "docker-bench:5.20",
        "docker-bench:5.30",
        "CKV_K8S_17",
        "CKV_K8S_18",
        "CKV_K8S_19",
    ),
    check=check,
    fixes={
        "profile": "Set every entry of `namespaces` to true and `network.mode` to none or slirp.",
        "oci": "Add the namespace to linux.namespaces, without a path.",
    },
)
