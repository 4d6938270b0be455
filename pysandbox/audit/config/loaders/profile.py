"""pysandbox profiles (our own YAML): validated by the profile model, then seen as one container."""

from __future__ import annotations

import dataclasses
from typing import Any

from pysandbox.audit.config.model import Container, Format, Workload
from pysandbox.audit.config.source import Node, to_plain
from pysandbox.types import UserError

FMT: Format = "profile"
_NS_SHORT = {"net": "net", "pid": "pid", "ipc": "ipc", "uts": "uts", "mount": "mount", "cgroup": "cgroup"}
# A document is a profile when it has a name or description and only fields a profile has.
_MARKERS = {
    "namespaces",
    "idmap",
    "capabilities",
    "seccomp",
    "no_new_privs",
    "filesystem",
    "mounts",
    "network",
    "limits",
    "rlimits",
    "lsm",
    "user",
    "audit",
}


def is_profile(doc: Any) -> bool:
    from pysandbox.policies.model import Profile

    if not isinstance(doc, Node) or not doc:
        return False
    fields = {f.name for f in dataclasses.fields(Profile)}
    return set(doc) <= fields and bool(set(doc) & _MARKERS)


def load(doc: Node, path: str) -> list[Workload]:
    from pysandbox.policies.validate import ProfileError, validate_profile

    data = to_plain(doc)
    data.setdefault("name", path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    try:
        p = validate_profile(data, path, local=False)
    except ProfileError as exc:
        raise UserError(f"{path}: invalid pysandbox profile: {'; '.join(exc.errors)}") from None
    w = Workload(path=path, format=FMT, kind="profile", name=p.name, line=doc.line)
    c = Container(name=p.name, line=doc.line)
    w.containers.append(c)
    ns_node = doc.map("namespaces")

    c.user_namespace = p.namespaces.user and p.idmap.mode != "host"
    c.lines["user_namespace"] = ns_node.line_of("user") if "user" in ns_node else doc.line_of("idmap")
    for field, short in _NS_SHORT.items():
        if not getattr(p.namespaces, field):
            w.host_namespaces[short] = (f"namespaces.{field}: false", ns_node.line_of(field))
    if p.network.mode == "host" and "net" not in w.host_namespaces:
        w.host_namespaces["net"] = ("network.mode: host", doc.map("network").line_of("mode"))
    if not p.namespaces.user or p.idmap.mode == "host":
        w.host_namespaces["user"] = ("no user namespace (ids are the host's)", c.lines["user_namespace"])

    c.run_as_user = p.user.uid
    c.lines["run_as_user"] = doc.map("user").line_of("uid")
    c.caps_granted = frozenset(p.capabilities.keep)
    c.lines["cap_add"] = c.lines["cap_drop"] = doc.map("capabilities").line_of("keep")
    c.seccomp = "unconfined" if p.seccomp.profile == "unconfined" else f"localhost/{p.seccomp.profile}"
    c.lines["seccomp"] = doc.map("seccomp").line_of("profile")
    c.allow_privilege_escalation = not p.no_new_privs
    c.lines["allow_privilege_escalation"] = doc.line_of("no_new_privs")
    fs = doc.map("filesystem")
    c.read_only_root = p.filesystem.read_only_root
    c.lines["read_only_root"] = fs.line_of("read_only_root")
    if not p.filesystem.masked_paths:
        c.proc_unmasked, c.lines["proc_unmasked"] = True, fs.line_of("masked_paths")
    limits = doc.map("limits")
    for attr, value, key in (
        ("memory_limit", p.limits.memory, "memory"),
        ("cpu_limit", p.limits.cpus, "cpus"),
        ("pids_limit", p.limits.pids, "pids"),
    ):
        if value:
            setattr(c, attr, str(value))
            c.lines[attr] = limits.line_of(key)
    lsm = doc.map("lsm")
    if p.lsm.apparmor_profile:
        c.apparmor, c.lines["apparmor"] = p.lsm.apparmor_profile, lsm.line_of("apparmor_profile")
    w.risky_mount_policy = p.mounts.risky
    w.lines["risky_mount_policy"] = doc.map("mounts").line_of("risky")
    return [w]
