"""Kubernetes manifests: Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
Job, CronJob and PodTemplate, in multi-document YAML, JSON or `kind: List` documents."""

from __future__ import annotations

from typing import Any

from pysandbox.audit.config.loaders.common import (
    as_bool,
    as_int,
    bad_input,
    caps,
    mapping,
    sequence,
    text,
)
from pysandbox.audit.config.model import Container, Format, Mount, Port, Sysctl, Workload
from pysandbox.audit.config.source import Node

FMT: Format = "kubernetes"
# Where the pod template sits in each workload kind.
POD_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "PodTemplate": ("template",),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
_CONTAINER_LISTS = (
    ("containers", "container"),
    ("initContainers", "initContainer"),
    ("ephemeralContainers", "ephemeralContainer"),
)
_HOST_NS = {"hostNetwork": "net", "hostPID": "pid", "hostIPC": "ipc"}
_SECCOMP_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
_CONTAINER_SECCOMP = "container.seccomp.security.alpha.kubernetes.io/"
_CONTAINER_APPARMOR = "container.apparmor.security.beta.kubernetes.io/"


def is_manifest(doc: Any) -> bool:
    return isinstance(doc, Node) and "apiVersion" in doc and "kind" in doc


def load(docs: list[Any], path: str) -> list[Workload]:
    workloads: list[Workload] = []
    for doc in docs:
        if doc is None:
            continue
        if not is_manifest(doc):
            line = doc.line if isinstance(doc, Node) else None
            raise bad_input(path, line, "document has no apiVersion and kind", FMT)
        workloads.extend(_resource(doc, path))
    return workloads


def _resource(doc: Node, path: str) -> list[Workload]:
    kind = str(doc.get("kind"))
    if kind.endswith("List") and "items" in doc:
        return _list_items(doc, kind, path)
    meta = mapping(doc, "metadata", path, FMT)
    name = str(meta.get("name") or meta.get("generateName") or "unnamed")
    if kind not in POD_PATHS:
        return _any_kind(doc, kind, name, path)
    template = doc
    for key in POD_PATHS[kind]:
        if not isinstance(template.get(key), dict):
            raise bad_input(
                path, template.line_of(key), f"{kind} {name} has no {'.'.join(POD_PATHS[kind])}", FMT
            )
        template = template.map(key)
    if not isinstance(template.get("spec"), dict):
        raise bad_input(path, template.line_of("spec"), f"{kind} {name} has no pod spec", FMT)
    annotations = mapping(mapping(template, "metadata", path, FMT), "annotations", path, FMT)
    return [_pod(path, kind, name, doc.line, template.map("spec"), annotations)]


def _list_items(doc: Node, kind: str, path: str) -> list[Workload]:
    """Items of a List need a kind but no apiVersion (kubectl takes them so): none is skipped."""
    items = sequence(doc, "items", path, FMT)
    out: list[Workload] = []
    for i, item in enumerate(items):
        if not isinstance(item, Node):
            raise bad_input(path, items.line_at(i), f"{kind} item {i + 1} is not a resource mapping", FMT)
        if "kind" not in item:
            raise bad_input(path, item.line, f"{kind} item {i + 1} has no kind", FMT)
        out.extend(_resource(item, path))
    return out


def _any_kind(doc: Node, kind: str, name: str, path: str) -> list[Workload]:
    """A kind this loader does not know (a custom resource, or a typo such as `Deploymnet` or
    `pod` that kubectl would refuse): every pod spec in it is audited, so that a gate does not
    pass containers it never looked at. Kinds without one (Service, ConfigMap, ...) hold none."""
    found = _pod_specs(doc)
    workloads = []
    for template, spec, where in found:
        label = name if len(found) == 1 else f"{name} ({where})"
        annotations = mapping(mapping(template, "metadata", path, FMT), "annotations", path, FMT)
        workloads.append(_pod(path, kind, label, doc.line, spec, annotations))
    return workloads


def _pod_specs(doc: Node) -> list[tuple[Node, Node, str]]:
    """(template, pod spec, where) for each mapping with a `containers` list of mappings, in
    document order; the template is the mapping holding the spec (its metadata has the
    annotations)."""
    found: list[tuple[Node, Node, str]] = []
    stack: list[tuple[Node, Any, str]] = [(doc, doc, "")]
    seen: set[int] = set()  # YAML aliases can share, even nest, mappings
    while stack:
        parent, value, where = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        children: list[tuple[Any, str]] = []
        if isinstance(value, Node):
            containers = value.get("containers")
            if isinstance(containers, list) and any(isinstance(c, Node) for c in containers):
                found.append((parent, value, where or "."))
                continue
            children = [(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(v, f"{where}[{i}]") for i, v in enumerate(value)]
        holder = value if isinstance(value, Node) else parent
        stack.extend((holder, child, at) for child, at in reversed(children))
    return found


def _pod(path: str, kind: str, name: str, line: int | None, spec: Node, notes: Node) -> Workload:
    w = Workload(path=path, format=FMT, kind=kind, name=name, line=line)
    for key, ns in _HOST_NS.items():
        if as_bool(spec.get(key)):
            w.host_namespaces[ns] = (f"{key}: true", spec.line_of(key))
    psc = mapping(spec, "securityContext", path, FMT)
    for sysctl in sequence(psc, "sysctls", path, FMT):
        if isinstance(sysctl, Node):
            w.sysctls.append(Sysctl(str(sysctl.get("name")), str(sysctl.get("value")), sysctl.line))
    volumes = {}
    for vol in sequence(spec, "volumes", path, FMT):
        if isinstance(vol, Node):
            mount = _volume(vol)
            volumes[mount.volume] = mount
            w.volumes.append(mount)
    user_ns = as_bool(spec.get("hostUsers")) is False
    for list_key, role in _CONTAINER_LISTS:
        for item in sequence(spec, list_key, path, FMT):
            if not isinstance(item, Node):
                raise bad_input(path, spec.line_of(list_key), f"`{list_key}` items must be mappings", FMT)
            c = _container(item, role, psc, notes, volumes, path)
            c.user_namespace = user_ns
            w.containers.append(c)
    if not w.containers:
        raise bad_input(path, spec.line, f"{kind} {name} has no containers", FMT)
    return w


def _volume(vol: Node) -> Mount:
    name = str(vol.get("name"))
    kind = next((k for k in vol if k != "name"), "unknown")
    if kind == "hostPath":
        hp = vol.map("hostPath")
        return Mount(
            None,
            text(hp.get("path")),
            "hostPath",
            host_path_type=text(hp.get("type")) or None,
            volume=name,
            line=vol.line,
            source_line=hp.line_of("path"),
        )
    return Mount(None, None, kind, volume=name, line=vol.line)


def _container(
    item: Node, role: str, psc: Node, notes: Node, volumes: dict[str | None, Mount], path: str
) -> Container:
    name = str(item.get("name") or "unnamed")
    c = Container(name=name, line=item.line, role=role, image=text(item.get("image")))
    sc = mapping(item, "securityContext", path, FMT)
    c.privileged = bool(as_bool(sc.get("privileged")))
    c.lines["privileged"] = sc.line_of("privileged")
    c.host_process = bool(as_bool(_inherit(sc, psc, "windowsOptions").get("hostProcess")))
    cap = mapping(sc, "capabilities", path, FMT)
    c.caps_add, c.caps_drop = caps(sequence(cap, "add", path, FMT)), caps(sequence(cap, "drop", path, FMT))
    c.lines["cap_add"], c.lines["cap_drop"] = cap.line_of("add"), cap.line_of("drop")
    _set(
        c,
        "allow_privilege_escalation",
        as_bool(sc.get("allowPrivilegeEscalation")),
        sc,
        "allowPrivilegeEscalation",
    )
    _set(c, "read_only_root", as_bool(sc.get("readOnlyRootFilesystem")), sc, "readOnlyRootFilesystem")
    for attr, key in (("run_as_user", "runAsUser"), ("run_as_non_root", "runAsNonRoot")):
        holder = sc if key in sc else psc
        value = as_int(holder.get(key)) if attr == "run_as_user" else as_bool(holder.get(key))
        _set(c, attr, value, holder, key)
    if str(sc.get("procMount", "")).lower() == "unmasked":
        c.proc_unmasked = True
        c.lines["proc_unmasked"] = sc.line_of("procMount")
    _seccomp(c, sc, psc, notes)
    _apparmor(c, sc, psc, notes)
    selinux = _inherit(sc, psc, "seLinuxOptions")
    c.selinux_type, c.selinux_user = text(selinux.get("type")), text(selinux.get("user"))
    c.selinux_role, c.lines["selinux"] = text(selinux.get("role")), selinux.line
    limits = mapping(mapping(item, "resources", path, FMT), "limits", path, FMT)
    _set(c, "memory_limit", text(limits.get("memory")), limits, "memory")
    _set(c, "cpu_limit", text(limits.get("cpu")), limits, "cpu")
    ports = sequence(item, "ports", path, FMT)
    for port in ports:
        if isinstance(port, Node) and as_int(port.get("hostPort")):
            c.ports.append(
                Port(
                    text(port.get("containerPort")),
                    as_int(port.get("hostPort")),
                    text(port.get("hostIP")),
                    str(port.get("protocol") or "TCP").lower(),
                    port.line_of("hostPort"),
                )
            )
    for vm in sequence(item, "volumeMounts", path, FMT):
        if isinstance(vm, Node):
            vol = volumes.get(text(vm.get("name")))
            c.mounts.append(
                Mount(
                    target=text(vm.get("mountPath")),
                    source=vol.source if vol else None,
                    kind=vol.kind if vol else "unknown",
                    read_only=bool(as_bool(vm.get("readOnly"))),
                    propagation=text(vm.get("mountPropagation")),
                    host_path_type=vol.host_path_type if vol else None,
                    volume=text(vm.get("name")),
                    line=vm.line,
                    source_line=vol.source_line if vol else None,
                )
            )
    return c


def _set(c: Container, attr: str, value: Any, holder: Node, key: str) -> None:
    if value is not None:
        setattr(c, attr, value)
        c.lines[attr] = holder.line_of(key)


def _inherit(sc: Node, psc: Node, key: str) -> Node:
    return sc.map(key) if isinstance(sc.get(key), dict) else psc.map(key)


def _seccomp(c: Container, sc: Node, psc: Node, notes: Node) -> None:
    for holder in (sc, psc):
        profile = holder.get("seccompProfile")
        if isinstance(profile, Node):
            kind = str(profile.get("type", "")).lower()
            c.seccomp = f"localhost/{profile.get('localhostProfile')}" if kind == "localhost" else kind
            c.lines["seccomp"] = profile.line_of("type")
            return
    for key in (_CONTAINER_SECCOMP + c.name, _SECCOMP_ANNOTATION):
        if key in notes:
            value = str(notes[key]).lower()
            c.seccomp = "runtimedefault" if value in ("runtime/default", "docker/default") else value
            c.lines["seccomp"] = notes.line_of(key)
            return


def _apparmor(c: Container, sc: Node, psc: Node, notes: Node) -> None:
    for holder in (sc, psc):
        profile = holder.get("appArmorProfile")
        if isinstance(profile, Node):
            c.apparmor = str(profile.get("type", "")).lower()
            c.lines["apparmor"] = profile.line_of("type")
            return
    key = _CONTAINER_APPARMOR + c.name
    if key in notes:
        c.apparmor = str(notes[key]).lower()
        c.lines["apparmor"] = notes.line_of(key)
