"""docker-compose files (Compose specification): one workload per service."""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any

from pysandbox.audit.config.loaders.common import (
    apply_label,
    as_bool,
    as_int,
    bad_input,
    caps,
    entries,
    mapping,
    sequence,
    text,
)
from pysandbox.audit.config.model import Container, Device, Format, Mount, Port, Sysctl, Workload
from pysandbox.audit.config.source import Node, NodeList

FMT: Format = "compose"
_PROPAGATIONS = {"shared", "rshared", "slave", "rslave", "private", "rprivate"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_HOST_NS = {
    "network_mode": "net",
    "pid": "pid",
    "ipc": "ipc",
    "uts": "uts",
    "userns_mode": "user",
    "cgroup": "cgroup",
}


def is_compose(doc: Any) -> bool:
    return isinstance(doc, Node) and isinstance(doc.get("services"), dict) and "apiVersion" not in doc


def load(doc: Node, path: str) -> list[Workload]:
    services = mapping(doc, "services", path, FMT)
    named = _named_volume_binds(doc, path)
    base = posixpath.dirname(os.path.abspath(path))
    workloads = []
    for name, svc in services.items():
        line = services.line_of(name)
        if not isinstance(svc, Node):
            raise bad_input(path, line, f"service `{name}` must be a mapping", FMT)
        workloads.append(_service(path, str(name), svc, line, base, named))
    return workloads


def _service(path: str, name: str, svc: Node, line: int | None, base: str, named: dict[str, str]) -> Workload:
    w = Workload(path=path, format=FMT, kind="service", name=name, line=line)
    c = Container(name=name, line=line, image=text(svc.get("image")))
    w.containers.append(c)
    for key in ("privileged", "read_only", "user"):
        if key in svc:
            c.lines[key] = svc.line_of(key)
    c.privileged = bool(as_bool(svc.get("privileged")))
    c.read_only_root = as_bool(svc.get("read_only"))
    c.user = text(svc.get("user"))
    c.caps_add = caps(sequence(svc, "cap_add", path, FMT))
    c.caps_drop = caps(sequence(svc, "cap_drop", path, FMT))
    c.lines["cap_add"], c.lines["cap_drop"] = svc.line_of("cap_add"), svc.line_of("cap_drop")
    for key, ns in _HOST_NS.items():
        if str(svc.get(key, "")).strip().lower() == "host":
            w.host_namespaces[ns] = (f"{key}: host", svc.line_of(key))
    _security_opts(c, sequence(svc, "security_opt", path, FMT))
    _limits(c, svc, path)
    _devices(c, svc, path)
    for key, value, at in entries(svc.get("sysctls") or NodeList()):
        w.sysctls.append(Sysctl(key, str(value), at))
    _ports(c, sequence(svc, "ports", path, FMT), path)
    _volumes(c, sequence(svc, "volumes", path, FMT), path, base, named)
    return w


def _security_opts(c: Container, opts: NodeList) -> None:
    for i, raw in enumerate(opts):
        opt = str(raw)
        sep = min((opt.find(s) for s in ":=" if s in opt), default=-1)
        key, value = (opt[:sep], opt[sep + 1 :]) if sep >= 0 else (opt, "")
        key, line = key.strip().lower(), opts.line_at(i)
        if key == "seccomp":
            c.seccomp = "unconfined" if value.strip().lower() == "unconfined" else f"localhost/{value}"
            c.lines["seccomp"] = line
        elif key == "apparmor":
            c.apparmor = value.strip()
            c.lines["apparmor"] = line
        elif key == "no-new-privileges":
            c.allow_privilege_escalation = not (as_bool(value) if value else True)
            c.lines["allow_privilege_escalation"] = line
        elif key == "systempaths" and value.strip().lower() == "unconfined":
            c.proc_unmasked = True
            c.lines["proc_unmasked"] = line
        elif key == "label":
            apply_label(c, value, line)


def _limits(c: Container, svc: Node, path: str) -> None:
    limits = mapping(mapping(mapping(svc, "deploy", path, FMT), "resources", path, FMT), "limits", path, FMT)
    for attr, keys in (
        ("memory_limit", ("mem_limit", "memory")),
        ("cpu_limit", ("cpus", "cpu_quota")),
        ("pids_limit", ("pids_limit", "pids")),
    ):
        for key in keys:
            holder = svc if key in svc else limits
            value = holder.get(key)
            if value is None or str(value).strip() in ("", "0", "-1"):
                continue
            setattr(c, attr, str(value))
            c.lines[attr] = holder.line_of(key)
            break


def _devices(c: Container, svc: Node, path: str) -> None:
    devices = sequence(svc, "devices", path, FMT)
    for i, item in enumerate(devices):
        source = item.get("source") if isinstance(item, Node) else str(item).split(":", 1)[0]
        c.devices.append(Device(path=str(source), line=devices.line_at(i)))
    rules = sequence(svc, "device_cgroup_rules", path, FMT)
    for i, rule in enumerate(rules):
        if str(rule).strip().startswith("a"):
            c.devices.append(Device(path=f"all devices ({rule})", all_devices=True, line=rules.line_at(i)))


def _ports(c: Container, ports: NodeList, path: str) -> None:
    for i, item in enumerate(ports):
        line = ports.line_at(i)
        if isinstance(item, Node):
            published = item.get("published")
            host_port = as_int(str(published).split("-")[0]) if published is not None else 0
            c.ports.append(
                Port(
                    text(item.get("target")),
                    host_port,
                    text(item.get("host_ip")),
                    str(item.get("protocol") or "tcp"),
                    line,
                )
            )
            continue
        spec, _, proto = str(item).partition("/")
        host_ip = None
        if spec.startswith("["):  # [::1]:8080:80
            host_ip, _, spec = spec[1:].partition("]:")
        parts = spec.split(":")
        if len(parts) == 3:
            host_ip, parts = parts[0], parts[1:]
        container_port = parts[-1]
        host_port = as_int(parts[0].split("-")[0]) if len(parts) == 2 and parts[0] else 0
        c.ports.append(Port(container_port, host_port, host_ip, proto or "tcp", line))


def _volumes(c: Container, volumes: NodeList, path: str, base: str, named: dict[str, str]) -> None:
    for i, item in enumerate(volumes):
        line = volumes.line_at(i)
        if isinstance(item, Node):
            c.mounts.append(_long_volume(item, line, base, named))
        elif item is not None:
            c.mounts.append(_short_volume(str(item), line, base, named))


def _long_volume(item: Node, line: int | None, base: str, named: dict[str, str]) -> Mount:
    kind = str(item.get("type") or "volume")
    source = text(item.get("source"))
    target = text(item.get("target"))
    propagation = text(item.map("bind").get("propagation"))
    read_only = bool(as_bool(item.get("read_only")))
    if kind == "bind" and source:
        return _bind(source, target, read_only, propagation, line, base)
    if kind == "volume" and source in named:
        return Mount(target, named[source], "bind", read_only, propagation, volume=source, line=line)
    return Mount(target, source, kind, read_only, propagation, line=line)


def _short_volume(spec: str, line: int | None, base: str, named: dict[str, str]) -> Mount:
    parts = _VAR.sub(_expand, spec).split(":")
    if len(parts) == 1:
        return Mount(parts[0], None, "volume", False, line=line)
    source, target = parts[0], parts[1]
    opts = {o.strip() for o in ",".join(parts[2:]).split(",") if o.strip()}
    read_only = "ro" in opts or "readonly" in opts
    propagation = next((o for o in opts if o in _PROPAGATIONS), None)
    if source.startswith(("/", ".", "~", "$")):
        return _bind(source, target, read_only, propagation, line, base)
    if source in named:
        return Mount(target, named[source], "bind", read_only, propagation, volume=source, line=line)
    return Mount(target, source, "volume", read_only, propagation, volume=source, line=line)


def _bind(
    source: str, target: str | None, read_only: bool, propagation: str | None, line: int | None, base: str
) -> Mount:
    expanded = _VAR.sub(_expand, source)
    if not expanded.startswith(("/", "~", "$")):
        inside = posixpath.normpath(expanded)
        if inside != ".." and not inside.startswith("../"):
            # The project's own files: where the project lives says nothing about the mount.
            return Mount(target, source, "bind", read_only, propagation, line=line, in_project=True)
    return Mount(target, host_path(source, base), "bind", read_only, propagation, line=line)


def _named_volume_binds(doc: Node, path: str) -> dict[str, str]:
    """Top-level volumes that are host directories in disguise (local driver, `o: bind`)."""
    out: dict[str, str] = {}
    for name, spec in mapping(doc, "volumes", path, FMT).items():
        if not isinstance(spec, Node):
            continue
        opts = spec.map("driver_opts")
        device = opts.get("device")
        if device and "bind" in str(opts.get("o", "")).split(","):
            out[str(name)] = host_path(str(device), "/")
    return out


def host_path(source: str, base: str) -> str:
    """A bind source as compose resolves it: variables with defaults, ~, relative to the file."""
    source = _VAR.sub(_expand, source)
    if source.startswith(("~", "$")):
        return source
    return posixpath.normpath(posixpath.join(base, source))


def _expand(match: re.Match[str]) -> str:
    name = match.group(1) or match.group(4)
    if name == "HOME":
        return "~"
    if match.group(2) in (":-", "-"):
        return match.group(3)
    return match.group(0)
