"""`docker inspect` output (a JSON list of containers; podman's is the same shape)."""

from __future__ import annotations

from typing import Any

from pysandbox.audit.config.loaders.common import (
    apply_label,
    as_bool,
    as_int,
    caps,
    mapping,
    sequence,
    text,
)
from pysandbox.audit.config.model import Container, Device, Format, Mount, Port, Sysctl, Workload
from pysandbox.audit.config.source import Node, NodeList

FMT: Format = "docker-inspect"
_HOST_NS = {
    "NetworkMode": "net",
    "PidMode": "pid",
    "IpcMode": "ipc",
    "UTSMode": "uts",
    "UsernsMode": "user",
    "CgroupnsMode": "cgroup",
}
_PROPAGATIONS = {"shared", "rshared", "slave", "rslave", "private", "rprivate"}


def is_container(doc: Any) -> bool:
    return isinstance(doc, Node) and "Id" in doc and ("HostConfig" in doc or "Config" in doc)


def is_inspect(doc: Any) -> bool:
    return is_container(doc) or (isinstance(doc, list) and bool(doc) and all(is_container(d) for d in doc))


def load(doc: Node | NodeList, path: str) -> list[Workload]:
    items = doc if isinstance(doc, list) else [doc]
    return [_container(item, path) for item in items]


def _container(item: Node, path: str) -> Workload:
    name = str(item.get("Name") or str(item.get("Id"))[:12]).lstrip("/")
    w = Workload(path=path, format=FMT, kind="container", name=name, line=item.line)
    hc, cfg = mapping(item, "HostConfig", path, FMT), mapping(item, "Config", path, FMT)
    c = Container(name=name, line=item.line, image=text(cfg.get("Image")))
    w.containers.append(c)
    c.privileged = bool(as_bool(hc.get("Privileged")))
    c.lines["privileged"] = hc.line_of("Privileged")
    c.caps_add, c.caps_drop = caps(hc.seq("CapAdd")), caps(hc.seq("CapDrop"))
    c.lines["cap_add"], c.lines["cap_drop"] = hc.line_of("CapAdd"), hc.line_of("CapDrop")
    c.user = str(cfg.get("User") or "")
    c.lines["user"] = cfg.line_of("User")
    c.read_only_root = bool(as_bool(hc.get("ReadonlyRootfs")))
    c.lines["read_only_root"] = hc.line_of("ReadonlyRootfs")
    for key, ns in _HOST_NS.items():
        if str(hc.get(key) or "").lower() == "host":
            w.host_namespaces[ns] = (f"{key}: host", hc.line_of(key))
    if "AppArmorProfile" in item:
        c.apparmor = str(item.get("AppArmorProfile") or "")
        c.lines["apparmor"] = item.line_of("AppArmorProfile")
    _security_opts(c, hc.seq("SecurityOpt"))
    for attr, key in (("memory_limit", "Memory"), ("pids_limit", "PidsLimit")):
        value = as_int(hc.get(key))
        if value is not None and value > 0:
            setattr(c, attr, str(value))
            c.lines[attr] = hc.line_of(key)
    for key in ("NanoCpus", "CpuQuota"):
        value = as_int(hc.get(key))
        if value is not None and value > 0:
            c.cpu_limit, c.lines["cpu_limit"] = str(value), hc.line_of(key)
    devices = hc.seq("Devices")
    for i, dev in enumerate(devices):
        if isinstance(dev, Node):
            c.devices.append(Device(str(dev.get("PathOnHost")), line=devices.line_at(i)))
    rules = hc.seq("DeviceCgroupRules")
    for i, rule in enumerate(rules):
        if str(rule).strip().startswith("a"):
            c.devices.append(Device(f"all devices ({rule})", True, rules.line_at(i)))
    if "MaskedPaths" in hc and not hc.get("MaskedPaths") and not c.privileged:
        c.proc_unmasked = True
        c.lines["proc_unmasked"] = hc.line_of("MaskedPaths")
    sysctls = mapping(hc, "Sysctls", path, FMT)
    for key, value in sysctls.items():
        w.sysctls.append(Sysctl(str(key), str(value), sysctls.line_of(key)))
    _ports(c, mapping(hc, "PortBindings", path, FMT))
    _mounts(c, item, hc, path)
    return w


def _security_opts(c: Container, opts: NodeList) -> None:
    for i, raw in enumerate(opts):
        key, _, value = str(raw).replace(":", "=", 1).partition("=")
        key, line = key.strip().lower(), opts.line_at(i)
        if key == "seccomp":
            c.seccomp = "unconfined" if value.lower() == "unconfined" else "localhost/custom"
            c.lines["seccomp"] = line
        elif key == "apparmor":
            c.apparmor, c.lines["apparmor"] = value, line
        elif key == "no-new-privileges":
            c.allow_privilege_escalation = not (as_bool(value) if value else True)
            c.lines["allow_privilege_escalation"] = line
        elif key == "label":
            apply_label(c, value, line)
        elif key == "systempaths" and value.lower() == "unconfined":
            c.proc_unmasked, c.lines["proc_unmasked"] = True, line


def _ports(c: Container, bindings: Node) -> None:
    for port, hosts in bindings.items():
        container_port, _, proto = str(port).partition("/")
        for host in hosts if isinstance(hosts, list) else []:
            if isinstance(host, Node):
                c.ports.append(
                    Port(
                        container_port,
                        as_int(host.get("HostPort")) or 0,
                        text(host.get("HostIp")),
                        proto or "tcp",
                        host.line,
                    )
                )


def _mounts(c: Container, item: Node, hc: Node, path: str) -> None:
    mounts = sequence(item, "Mounts", path, FMT)
    for i, m in enumerate(mounts):
        if not isinstance(m, Node):
            continue
        kind = str(m.get("Type") or "bind")
        propagation = text(m.get("Propagation")) or None
        read_only = as_bool(m.get("RW")) is False
        source = text(m.get("Source"))
        c.mounts.append(
            Mount(
                text(m.get("Destination")),
                source,
                "bind" if kind == "bind" else kind,
                read_only,
                propagation,
                volume=text(m.get("Name")),
                line=mounts.line_at(i),
            )
        )
    if mounts:
        return
    binds = hc.seq("Binds")  # containers created but never started have Binds and no Mounts
    for i, spec in enumerate(binds):
        parts = str(spec).split(":")
        if len(parts) < 2:
            continue
        opts = set(",".join(parts[2:]).split(","))
        kind = "bind" if parts[0].startswith("/") else "volume"
        propagation = next((o for o in opts if o in _PROPAGATIONS), None)
        c.mounts.append(Mount(parts[1], parts[0], kind, "ro" in opts, propagation, line=binds.line_at(i)))
