"""OCI runtime bundles' `config.json` (runtime-spec 1.x), as runc, crun and `pysandbox export` write it."""

from __future__ import annotations

from typing import Any

from pysandbox.audit.config.loaders.common import (
    as_bool,
    as_int,
    bad_input,
    cap_name,
    mapping,
    sequence,
    text,
)
from pysandbox.audit.config.model import Container, Device, Format, Mount, Sysctl, Workload
from pysandbox.audit.config.source import Node

FMT: Format = "oci"
_NAMESPACES = ("pid", "network", "ipc", "uts", "mount", "cgroup")
_NS_SHORT = {"network": "net"}
_CAP_SETS = ("bounding", "effective", "permitted", "ambient")
_PROPAGATIONS = {"shared", "rshared", "slave", "rslave", "private", "rprivate"}


def is_oci(doc: Any) -> bool:
    return isinstance(doc, Node) and ("ociVersion" in doc or ("process" in doc and "root" in doc))


def load(doc: Node, path: str) -> list[Workload]:
    if not isinstance(doc.get("linux", {}), dict):
        raise bad_input(path, doc.line_of("linux"), "`linux` must be an object", FMT)
    name = str(doc.get("hostname") or "bundle")
    w = Workload(path=path, format=FMT, kind="bundle", name=name, line=doc.line)
    linux = mapping(doc, "linux", path, FMT)
    process = mapping(doc, "process", path, FMT)
    c = Container(name=name, line=process.line)
    w.containers.append(c)
    _namespaces(w, c, linux, path)
    _process(c, process, path)
    root = mapping(doc, "root", path, FMT)
    c.read_only_root = bool(as_bool(root.get("readonly")))
    c.lines["read_only_root"] = root.line_of("readonly")
    _seccomp(c, linux)
    _resources(c, mapping(linux, "resources", path, FMT), path)
    for i, dev in enumerate(devs := sequence(linux, "devices", path, FMT)):
        if isinstance(dev, Node):
            c.devices.append(Device(str(dev.get("path")), line=devs.line_at(i)))
    masked = linux.get("maskedPaths")
    if not masked:
        c.proc_unmasked = True
        c.lines["proc_unmasked"] = linux.line_of("maskedPaths")
    for key, value in mapping(linux, "sysctl", path, FMT).items():
        w.sysctls.append(Sysctl(str(key), str(value), linux.map("sysctl").line_of(key)))
    propagation = text(linux.get("rootfsPropagation"))
    if propagation in ("shared", "rshared"):
        c.mounts.append(
            Mount(
                "/",
                "(root filesystem)",
                "rootfs",
                c.read_only_root,
                propagation,
                line=linux.line_of("rootfsPropagation"),
            )
        )
    _mounts(c, sequence(doc, "mounts", path, FMT))
    return [w]


def _namespaces(w: Workload, c: Container, linux: Node, path: str) -> None:
    present: dict[str, Node] = {}
    for ns in sequence(linux, "namespaces", path, FMT):
        if isinstance(ns, Node):
            present[str(ns.get("type"))] = ns
    line = linux.line_of("namespaces")
    for ns in _NAMESPACES:
        short = _NS_SHORT.get(ns, ns)
        if ns not in present:
            w.host_namespaces[short] = (f"no {ns} namespace in linux.namespaces", line)
        elif present[ns].get("path"):
            w.host_namespaces[short] = (
                f"joins the {ns} namespace at {present[ns]['path']}",
                present[ns].line,
            )
    c.user_namespace = "user" in present and not present["user"].get("path")
    c.lines["user_namespace"] = present["user"].line if "user" in present else line


def _process(c: Container, process: Node, path: str) -> None:
    user = mapping(process, "user", path, FMT)
    c.run_as_user = as_int(user.get("uid"))
    if c.run_as_user is None and process:
        c.run_as_user = 0  # the runtime-spec default uid
    c.lines["run_as_user"] = user.line_of("uid")
    caps = mapping(process, "capabilities", path, FMT)
    granted: set[str] = set()
    for key in _CAP_SETS:
        granted.update(cap_name(v) for v in sequence(caps, key, path, FMT))
    c.caps_granted = frozenset(granted)
    c.lines["cap_add"] = c.lines["cap_drop"] = caps.line
    nnp = as_bool(process.get("noNewPrivileges"))
    c.allow_privilege_escalation = not nnp
    c.lines["allow_privilege_escalation"] = process.line_of("noNewPrivileges")
    if "apparmorProfile" in process:
        c.apparmor = str(process["apparmorProfile"])
        c.lines["apparmor"] = process.line_of("apparmorProfile")
    label = str(process.get("selinuxLabel") or "")
    if label.count(":") >= 2:  # a full context always names a user and role: only the type says anything
        c.selinux_type = label.split(":")[2]
        c.lines["selinux"] = process.line_of("selinuxLabel")


def _seccomp(c: Container, linux: Node) -> None:
    seccomp = linux.get("seccomp")
    if not isinstance(seccomp, Node):
        c.seccomp = "unconfined"
        c.lines["seccomp"] = linux.line
        return
    action = str(seccomp.get("defaultAction", "")).upper()
    c.seccomp = "allow-default" if action in ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG") else "localhost/config.json"
    c.lines["seccomp"] = seccomp.line_of("defaultAction")


def _resources(c: Container, res: Node, path: str) -> None:
    memory, cpu, pids = (mapping(res, k, path, FMT) for k in ("memory", "cpu", "pids"))
    for attr, holder, key in (
        ("memory_limit", memory, "limit"),
        ("cpu_limit", cpu, "quota"),
        ("pids_limit", pids, "limit"),
    ):
        value = as_int(holder.get(key))
        if value is not None and value > 0:
            setattr(c, attr, str(value))
            c.lines[attr] = holder.line_of(key)
    devices = sequence(res, "devices", path, FMT)
    for i, rule in enumerate(devices):
        if not isinstance(rule, Node) or not as_bool(rule.get("allow")):
            continue
        if rule.get("type") in (None, "a") and rule.get("major") is None and rule.get("minor") is None:
            c.devices.append(
                Device("all devices (linux.resources.devices allows a *:*)", True, devices.line_at(i))
            )


def _mounts(c: Container, mounts: Any) -> None:
    for i, m in enumerate(mounts):
        if not isinstance(m, Node):
            continue
        opts = [str(o) for o in m.get("options") or []]
        kind = str(m.get("type") or "")
        read_only = "ro" in opts
        propagation = next((o for o in opts if o in _PROPAGATIONS), None)
        target, line = text(m.get("destination")), mounts.line_at(i)
        if kind == "bind" or "bind" in opts or "rbind" in opts:
            c.mounts.append(Mount(target, text(m.get("source")), "bind", read_only, propagation, line=line))
        elif kind == "sysfs" and not read_only:
            c.mounts.append(Mount(target, "/sys", "host-sysfs", False, propagation, line=line))
        elif kind in ("cgroup", "cgroup2") and not read_only:
            c.mounts.append(Mount(target, "/sys/fs/cgroup", "host-cgroupfs", False, propagation, line=line))
        else:
            c.mounts.append(
                Mount(target, text(m.get("source")), kind or "unknown", read_only, propagation, line=line)
            )
