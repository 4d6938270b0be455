"""PSB-A011: the workload runs as root (or may: nothing requires a non-root user)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Container, Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import restricted
from pysandbox.types import Finding, Severity

NON_ROOT, NON_ROOT_USER = restricted("RunningAsNonRoot"), restricted("RunningAsNonRootUser")
_DOCKER = ("docker-bench:4.1", "CKV_DOCKER_3")


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        if w.format == "kubernetes":
            found = _kubernetes(c)
        elif w.format in ("oci", "profile"):
            found = _uid(c, w.format)
        else:
            found = _docker(c, w.format)
        if found is not None:
            severity, message, aliases, line = found
            yield RULE.finding(w, c, message, line, severity=severity, aliases=aliases)


Case = tuple[Severity, str, tuple[str, ...], int | None]


def _kubernetes(c: Container) -> Case | None:
    uid, non_root = c.run_as_user, c.run_as_non_root is True
    host = "" if not c.user_namespace else " (inside a user namespace: not root on the node)"
    if uid == 0:
        sev = Severity.LOW if c.user_namespace else Severity.HIGH
        aliases = (NON_ROOT_USER, "CKV_K8S_23") if non_root else (NON_ROOT, NON_ROOT_USER, "CKV_K8S_23")
        return sev, f"runs as root (runAsUser: 0){host}", aliases, c.line_of("run_as_user")
    if non_root:
        return None
    if uid is None:
        return (
            Severity.MEDIUM,
            "may run as root: neither runAsNonRoot: true nor runAsUser is set, so the image's USER decides",
            (NON_ROOT, "CKV_K8S_23"),
            c.line,
        )
    return (
        Severity.LOW,
        f"runs as uid {uid} but does not set runAsNonRoot: true",
        (NON_ROOT,),
        c.line_of("run_as_user"),
    )


def _uid(c: Container, fmt: str) -> Case | None:
    if c.run_as_user != 0:
        return None
    field = "process.user.uid" if fmt == "oci" else "user.uid"
    if c.user_namespace:
        return (
            Severity.LOW,
            f"runs as root ({field}: 0) inside a user namespace, unprivileged on the host",
            (NON_ROOT, NON_ROOT_USER),
            c.line_of("run_as_user"),
        )
    return (
        Severity.HIGH,
        f"runs as root ({field}: 0) without a user namespace: root on the host",
        (NON_ROOT, NON_ROOT_USER),
        c.line_of("run_as_user"),
    )


def _docker(c: Container, fmt: str) -> Case | None:
    user = (c.user or "").strip()
    name = user.split(":", 1)[0]
    if name in ("root", "0") or (fmt == "docker-inspect" and not user):
        what = f"user: {user}" if user else "no User: the image's default, root"
        return (
            Severity.HIGH,
            f"runs as root ({what})",
            (NON_ROOT, NON_ROOT_USER, *_DOCKER),
            c.line_of("user"),
        )
    if not user:
        return (
            Severity.LOW,
            "sets no user: it runs as the image's USER, root unless the image sets one",
            (NON_ROOT, *_DOCKER),
            c.line,
        )
    return None


RULE = Rule(
    id="PSB-A011",
    severity=Severity.HIGH,
    title="Container runs as root",
    fix="Run as an unprivileged user: `runAsNonRoot: true` with `runAsUser: 10001` (Kubernetes), "
    '`user: "10001:10001"` (compose), a non-zero process.user.uid or a user namespace (OCI).',
    aliases=(NON_ROOT, NON_ROOT_USER, "CKV_K8S_23", *_DOCKER),
    check=check,
    fixes={
        "profile": "Set `user.uid` to an unprivileged id (65534) and keep the user namespace on.",
        "oci": "Set a non-zero process.user.uid, or add a user namespace with uidMappings.",
    },
)
