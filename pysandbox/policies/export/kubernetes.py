"""A Pod (or a strategic-merge patch of a given workload) whose securityContext and resources
enforce the profile, plus a deny-all NetworkPolicy for `network: none`.

Every security field is set on the pod and on each container: in a patched workload, a
container-level value already there would otherwise override the pod-level one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pysandbox.policies.export.seccomp import dns_label, spo_name
from pysandbox.policies.export.unsupported import Ledger, engine_path_lists, no_mount_policy
from pysandbox.policies.model import Profile
from pysandbox.types import UserError
from pysandbox.userfiles import parse_yaml, read_text

TMP_VOLUME = "pysandbox-tmp"
KUBELET_SECCOMP_DIR = "/var/lib/kubelet/seccomp"
KUBERNETES_IDS_PER_POD = 65536  # what the kubelet maps for a pod with hostUsers: false
_SELINUX_KEYS = ("user", "role", "type", "level")


def localhost_profile(profile: Profile, spo_namespace: str | None) -> str:
    if spo_namespace is not None:
        return f"operator/{spo_namespace}/{spo_name(profile)}.json"
    return f"pysandbox/{dns_label(profile.name)}.json"


def seccomp_profile(profile: Profile, spo_namespace: str | None, ledger: Ledger) -> dict[str, str]:
    ledger.carry("seccomp.profile")
    if profile.seccomp.profile == "unconfined":
        return {"type": "Unconfined"}
    path = localhost_profile(profile, spo_namespace)
    if spo_namespace is None:
        ledger.tell(
            f"install the seccomp profile on every node: pysandbox export --profile {profile.name} "
            f"--format seccomp -o {KUBELET_SECCOMP_DIR}/{path}"
        )
    return {"type": "Localhost", "localhostProfile": path}


def container_security(profile: Profile, seccomp: dict[str, str], ledger: Ledger) -> dict[str, Any]:
    u = profile.user
    sc: dict[str, Any] = {
        "privileged": False,
        "allowPrivilegeEscalation": not profile.no_new_privs,
        "readOnlyRootFilesystem": profile.filesystem.read_only_root,
        "runAsUser": u.uid,
        "runAsGroup": u.gid,
        "runAsNonRoot": u.uid != 0,
        # `add` even when empty: a patch must replace any list the workload has
        "capabilities": {"drop": ["ALL"], "add": list(profile.capabilities.keep)},
        "seccompProfile": seccomp,
        "procMount": "Default",  # the runtime's masked and read-only /proc paths
    }
    # `add` is the bounding set. A non-root container holds none of it after exec (no ambient set),
    # as a non-root workload of pysandbox holds none of keep: keep is carried for any user.
    ledger.carry("no_new_privs", "filesystem.read_only_root", "user.uid", "user.gid", "capabilities.keep")
    if u.uid == 0:
        ledger.carry("capabilities.grant_non_root")  # root holds all of keep, here as under pysandbox
    else:
        ledger.lacks_if(
            profile.capabilities.grant_non_root,
            "capabilities.grant_non_root",
            "Kubernetes raises no ambient capabilities: a non-root container holds none of the "
            "granted ones after exec (pysandbox raises them in its ambient set)",
        )
    sc.update(_lsm(profile, ledger))
    return sc


def _lsm(profile: Profile, ledger: Ledger) -> dict[str, Any]:
    out: dict[str, Any] = {}
    lsm = profile.lsm
    if lsm.selinux_label:
        parts = lsm.selinux_label.split(":", 3)
        if len(parts) < 3:
            raise UserError(
                f"SELinux label {lsm.selinux_label!r} is not USER:ROLE:TYPE[:LEVEL]: fix lsm.selinux_label"
            )
        out["seLinuxOptions"] = dict(zip(_SELINUX_KEYS, parts, strict=False))
        ledger.carry("lsm.selinux_label")
    else:
        ledger.skip("lsm.selinux_label")
    name = lsm.apparmor_profile
    if name:
        if name == "unconfined":
            out["appArmorProfile"] = {"type": "Unconfined"}
        elif name in ("runtime/default", "docker-default"):
            out["appArmorProfile"] = {"type": "RuntimeDefault"}
        else:
            out["appArmorProfile"] = {"type": "Localhost", "localhostProfile": name}
        ledger.carry("lsm.apparmor_profile")
    else:
        ledger.skip("lsm.apparmor_profile")
    return out


def pod_security(profile: Profile, seccomp: dict[str, str], ledger: Ledger) -> dict[str, Any]:
    u = profile.user
    psc: dict[str, Any] = {
        "runAsUser": u.uid,
        "runAsGroup": u.gid,
        "runAsNonRoot": u.uid != 0,
        "seccompProfile": seccomp,
    }
    if u.additional_gids:
        psc["supplementalGroups"] = list(u.additional_gids)
        ledger.carry("user.additional_gids")
    else:
        ledger.skip("user.additional_gids")
    return psc


def quantity(size: int) -> str:
    """Bytes as a Kubernetes quantity: 512Mi rather than 536870912 where it divides evenly."""
    for suffix, unit in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if size and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


def _quantity_cpu(cpus: float) -> str:
    milli = round(cpus * 1000)
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def resources(profile: Profile, ledger: Ledger) -> dict[str, Any]:
    """limits == requests: Guaranteed QoS, which is also what keeps swap off (LimitedSwap)."""
    lim = profile.limits
    limits: dict[str, str] = {}
    if lim.memory is not None:
        limits["memory"] = quantity(lim.memory)
        ledger.carry("limits.memory")
    else:
        ledger.skip("limits.memory")
    if lim.cpus is not None:
        limits["cpu"] = _quantity_cpu(lim.cpus)
        ledger.carry("limits.cpus")
    else:
        ledger.skip("limits.cpus")
    fs = profile.filesystem
    if not fs.read_only_root and fs.upper_size is not None:
        limits["ephemeral-storage"] = quantity(fs.upper_size)
        ledger.partly(
            "filesystem.upper_size",
            "ephemeral-storage also counts the container's logs and "
            "disk-backed emptyDirs; the kubelet evicts the pod instead of failing writes",
        )
    else:
        ledger.skip("filesystem.upper_size")
    if lim.memory_swap is None:
        ledger.skip("limits.memory_swap")
    elif lim.memory is not None and lim.memory_swap == lim.memory:
        ledger.partly(
            "limits.memory_swap",
            "no swap: a Guaranteed pod gets none (NoSwap, or LimitedSwap "
            "for Burstable pods only); Kubernetes has no per-container swap limit",
        )
    else:
        ledger.lacks("limits.memory_swap", "Kubernetes has no per-container swap limit (node swapBehavior)")
    for name, why in (
        ("pids", "the PIDs limit is per pod and node-wide (kubelet podPidsLimit)"),
        ("cpuset_cpus", "CPU pinning needs the kubelet's static CPU manager and integer CPUs"),
        ("io_weight", "Kubernetes has no block-IO weight"),
    ):
        if getattr(lim, name) is None:
            ledger.skip(f"limits.{name}")
        else:
            ledger.lacks(f"limits.{name}", why)
    return {"limits": limits, "requests": dict(limits)} if limits else {}


def tmp_volume(profile: Profile, ledger: Ledger) -> dict[str, Any] | None:
    size = profile.filesystem.tmp_size
    if size is None:
        ledger.skip("filesystem.tmp_size")
        return None
    ledger.carry("filesystem.tmp_size")
    return {"name": TMP_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": quantity(size)}}


def pod_fields(profile: Profile, ledger: Ledger) -> dict[str, Any]:
    """Pod spec fields for namespaces, user namespace, network and hostname."""
    ns = profile.namespaces
    out: dict[str, Any] = {}
    host_net = profile.network.mode == "host" or not ns.net
    # Explicit false too: a patched workload may have set them.
    out.update(hostNetwork=host_net, hostPID=not ns.pid, hostIPC=not ns.ipc)
    ledger.carry("namespaces.net", "namespaces.pid", "namespaces.ipc")
    if ns.uts or host_net:
        ledger.carry("namespaces.uts")
    else:
        ledger.lacks("namespaces.uts", "a pod shares the host's UTS namespace only with hostNetwork")
    if ns.mount:
        ledger.carry("namespaces.mount")
    else:
        ledger.lacks("namespaces.mount", "every container has its own mount namespace")
    if ns.cgroup:
        ledger.partly(
            "namespaces.cgroup",
            "runtimes give containers a private cgroup namespace on cgroup v2 "
            "nodes; on cgroup v1 nodes they share the host's",
        )
    else:
        ledger.lacks("namespaces.cgroup", "the runtime chooses the cgroup namespace")
    if ns.user and profile.idmap.mode != "host":
        out["hostUsers"] = False
        ledger.carry("namespaces.user")
        ledger.partly(
            "idmap.mode",
            "the kubelet picks the host range (UserNamespacesSupport, Kubernetes "
            "1.30+; the node's filesystems must support idmapped mounts)",
        )
        if profile.idmap.size == KUBERNETES_IDS_PER_POD:
            ledger.carry("idmap.size")
        else:
            ledger.lacks(
                "idmap.size",
                f"the kubelet maps {KUBERNETES_IDS_PER_POD} ids per pod, not {profile.idmap.size}",
            )
    else:
        ledger.carry("namespaces.user", "idmap.mode")
        ledger.skip("idmap.size")
    if profile.hostname and not host_net:
        out["hostname"] = dns_label(profile.hostname)
        ledger.carry("hostname")
    else:
        ledger.skip("hostname")
    return out


def _paths(profile: Profile, ledger: Ledger) -> None:
    fs = profile.filesystem
    engine_path_lists(
        profile,
        ledger,
        "procMount: Default gives the runtime's list only; {extra} would need a custom runtime config",
    )
    if fs.sys == "none":
        ledger.lacks("filesystem.sys", "containers always get /sys (read-only unless privileged)")
    else:
        ledger.carry("filesystem.sys")


def _unsupported(profile: Profile, ledger: Ledger) -> None:
    no_mount_policy(
        profile,
        ledger,
        "a Pod has no mount policy: enforce it at admission (Pod Security `restricted` already forbids "
        "hostPath volumes; ValidatingAdmissionPolicy for finer rules)",
    )
    names = ", ".join(rl.name for rl in profile.rlimits)
    ledger.lacks_if(
        profile.rlimits, "rlimits", f"Kubernetes has no rlimits ({names}): the node runtime's defaults apply"
    )
    ledger.lacks_if(
        profile.network.allow_host_loopback,
        "network.allow_host_loopback",
        "a pod cannot reach its node's loopback",
    )
    ledger.lacks_if(
        profile.audit != "off",
        "audit",
        "pysandbox audit events are not recorded for pods (use the cluster's audit log and runtime events)",
    )


def _network(
    profile: Profile, labels: dict[str, str], name: str, ledger: Ledger, namespace: str | None
) -> dict[str, Any] | None:
    mode = profile.network.mode
    if mode == "host" or not profile.namespaces.net:
        ledger.carry("network.mode")
        return None
    if mode == "slirp":
        ledger.partly(
            "network.mode",
            "the pod network stands in for slirp (outbound NAT), and it also lets other pods connect in",
        )
        return None
    ledger.partly(
        "network.mode",
        "a deny-all NetworkPolicy cuts the pod off only where the CNI plugin "
        "enforces NetworkPolicy; the pod still has its interface",
    )
    meta: dict[str, Any] = {"name": f"{name}-deny-all"[:63]}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta,
        "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress", "Egress"]},
    }


def _secure_container(
    container: dict[str, Any], sc: dict[str, Any], res: dict[str, Any], tmp: dict[str, Any] | None
) -> bool:
    """Sets the fields on one container; True when it got the /tmp mount."""
    container["securityContext"] = dict(sc)
    if res:
        container["resources"] = res
    mounts = container.get("volumeMounts") or []
    if tmp is not None and not any(m.get("mountPath") == "/tmp" for m in mounts if isinstance(m, dict)):
        container["volumeMounts"] = [{"name": TMP_VOLUME, "mountPath": "/tmp"}]
        return True
    container.pop("volumeMounts", None)
    return False


def pod(
    profile: Profile, image: str, args: tuple[str, ...], ledger: Ledger, spo_namespace: str | None = None
) -> list[dict[str, Any]]:
    name = dns_label(f"pysandbox-{profile.name}")
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "pysandbox"}
    seccomp = seccomp_profile(profile, spo_namespace, ledger)
    sc = container_security(profile, seccomp, ledger)
    container: dict[str, Any] = {"name": "sandbox", "image": image}
    if args:
        container["args"] = list(args)  # replace CMD, keep ENTRYPOINT: as `pysandbox run IMAGE ARGS`
    tmp = tmp_volume(profile, ledger)
    _secure_container(container, sc, resources(profile, ledger), tmp)
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        **pod_fields(profile, ledger),
        "securityContext": pod_security(profile, seccomp, ledger),
        "containers": [container],
    }
    if tmp is not None:
        spec["volumes"] = [tmp]
    _paths(profile, ledger)
    _unsupported(profile, ledger)
    meta: dict[str, Any] = {
        "name": name,
        "labels": labels,
        "annotations": {"pysandbox.io/profile": profile.name},
    }
    if spo_namespace:
        meta["namespace"] = spo_namespace
    docs = [{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}]
    policy = _network(profile, labels, name, ledger, spo_namespace)
    if policy is not None:
        docs.append(policy)
    return docs


def workload_patch(
    profile: Profile, workload: Path, ledger: Ledger, spo_namespace: str | None = None
) -> dict[str, Any]:
    """A strategic-merge patch (`kubectl patch --type strategic --patch-file`) of the workload."""
    from pysandbox.audit.config.loaders.kubernetes import POD_PATHS

    doc = _read_workload(workload)
    kind = str(doc.get("kind"))
    if kind not in POD_PATHS:
        raise UserError(
            f"{workload}: kind {kind} holds no pod template: give a Pod, Deployment, StatefulSet, "
            "DaemonSet, ReplicaSet, ReplicationController, Job, CronJob or PodTemplate"
        )
    template: Any = doc
    for key in POD_PATHS[kind]:
        template = template.get(key) if isinstance(template, dict) else None
    pod_spec = template.get("spec") if isinstance(template, dict) else None
    if not isinstance(pod_spec, dict):
        raise UserError(f"{workload}: {kind} has no pod spec at {'.'.join((*POD_PATHS[kind], 'spec'))}")
    seccomp = seccomp_profile(profile, spo_namespace, ledger)
    sc = container_security(profile, seccomp, ledger)
    res = resources(profile, ledger)
    tmp = tmp_volume(profile, ledger)
    spec: dict[str, Any] = {
        **pod_fields(profile, ledger),
        "securityContext": pod_security(profile, seccomp, ledger),
    }
    uses_tmp = False
    for list_key in ("initContainers", "containers"):
        items = pod_spec.get(list_key) or []
        if not isinstance(items, list):
            where = ".".join((*POD_PATHS[kind], "spec", list_key))
            raise UserError(
                f"{workload}: {where} is {_yaml_type(items)}, not a list: make it a list of containers"
            )
        patched = []
        for item in items:
            if not isinstance(item, dict) or not item.get("name"):
                raise UserError(
                    f"{workload}: every entry of {list_key} needs a name (the patch merges by name)"
                )
            entry = {"name": item["name"], "volumeMounts": item.get("volumeMounts") or []}
            uses_tmp |= _secure_container(entry, sc, res, tmp)
            patched.append(entry)
        if patched:
            spec[list_key] = patched
    if not spec.get("containers"):
        raise UserError(f"{workload}: the {kind} has no containers to patch")
    if uses_tmp and tmp is not None:
        spec["volumes"] = [tmp]
    _paths(profile, ledger)
    _unsupported(profile, ledger)
    mode = profile.network.mode
    if mode == "none" and profile.namespaces.net:
        ledger.partly(
            "network.mode",
            "a patch cannot add a NetworkPolicy: apply a deny-all policy selecting "
            "the workload's pods (`pysandbox export --format kubernetes` without --workload "
            "prints one)",
        )
    else:
        _network(profile, {}, "", ledger, None)
    patch: dict[str, Any] = {"spec": spec}
    for key in reversed(POD_PATHS[kind]):
        patch = {key: patch}
    raw_meta = doc.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    return {
        "apiVersion": doc.get("apiVersion"),
        "kind": kind,
        "metadata": {k: meta[k] for k in ("name", "namespace") if k in meta},
        **patch,
    }


def _yaml_type(value: object) -> str:
    return {dict: "a mapping", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _read_workload(path: Path) -> dict[str, Any]:
    text = read_text(path, "workload", "give --workload the path of a YAML manifest")
    docs = parse_yaml(text, "workload", path, documents=True)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise UserError(f"workload {path}: give one Kubernetes object (apiVersion, kind) per file")
    for key in ("apiVersion", "kind"):
        if not isinstance(docs[0].get(key), str) or not docs[0][key]:
            raise UserError(f"workload {path}: the object has no {key}: give a complete Kubernetes manifest")
    return docs[0]
