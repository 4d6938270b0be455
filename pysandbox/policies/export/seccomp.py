"""The profile's seccomp policy for other engines, resolved exactly as the launcher resolves it.

- Docker/OCI JSON (`docker run --security-opt seccomp=FILE`, a Kubernetes Localhost profile): the
  launcher's JSON with the capability-conditional rules decided for the profile's capabilities, as
  moby does for a container. Architecture and kernel conditions stay, so one file serves every node.
- OCI `linux.seccomp` (runtime-spec): fully resolved for one architecture, the shape runc reads.
- Security Profiles Operator `SeccompProfile`: the same resolved rules as a Kubernetes object.
Both resolutions are the launcher's own code (sandbox/seccomp.py), so each compiles to the very
program `pysandbox run` loads.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from pysandbox.policies.export.unsupported import Ledger
from pysandbox.policies.model import Profile
from pysandbox.sandbox import seccomp as launcher
from pysandbox.types import UserError

SPO_API = "security-profiles-operator.x-k8s.io/v1beta1"
_OCI_RULE_KEYS = ("names", "action", "errnoRet", "args")
_OCI_TOP_KEYS = ("defaultAction", "defaultErrnoRet", "flags", "listenerPath", "listenerMetadata")


def source_document(spec: str) -> tuple[str, dict[str, Any]] | None:
    """(source, parsed JSON) of a profile's seccomp setting, found as the launcher finds it."""
    try:
        resolved = launcher.resolve(spec)
        if resolved is None:
            return None
        source, data = resolved
        return source, launcher.parse_json(data, source)
    except UserError as exc:
        raise UserError(str(exc)) from None


def _cap_selected(rule: dict[str, Any], have: set[str]) -> bool:
    exc = rule.get("excludes") or {}
    inc = rule.get("includes") or {}
    if any(c in have for c in exc.get("caps") or []):
        return False
    return all(c in have for c in inc.get("caps") or [])


def _without_caps(cond: dict[str, Any] | None) -> dict[str, Any] | None:
    rest = {k: v for k, v in (cond or {}).items() if k != "caps" and v}
    return rest or None


def resolve_caps(doc: dict[str, Any], caps: tuple[str, ...]) -> dict[str, Any]:
    """The document with capability conditions decided for `caps` (moby's rule, as the launcher's)."""
    have = launcher.cap_names(caps)
    rules: list[dict[str, Any]] = []
    for rule in doc.get("syscalls") or []:
        if not isinstance(rule, dict):
            raise UserError("seccomp profile: every entry of syscalls must be an object")
        if not _cap_selected(rule, have):
            continue
        out = {k: v for k, v in rule.items() if k not in ("includes", "excludes")}
        for key in ("includes", "excludes"):
            cond = _without_caps(rule.get(key))
            if cond is not None:
                out[key] = cond
        rules.append(out)
    return {**doc, "syscalls": rules}


def _oci_rule(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"names": list(rule["names"]), "action": rule["action"]}
    if rule.get("errnoRet") is not None:
        out["errnoRet"] = int(rule["errnoRet"])
    if rule.get("args"):
        out["args"] = [
            {
                "index": int(a["index"]),
                "value": int(a.get("value") or 0),
                "valueTwo": int(a.get("valueTwo") or 0),
                "op": a["op"],
            }
            for a in rule["args"]
        ]
    return out


def oci_seccomp(doc: dict[str, Any], caps: tuple[str, ...], machine: str | None = None) -> dict[str, Any]:
    """runtime-spec `linux.seccomp`: the rules the launcher selects on `machine` (default: this one)."""
    machine = machine or os.uname().machine
    try:
        rules = launcher.select_rules(doc, caps, machine)
        arches = launcher.architectures(doc, machine)
    except UserError as exc:
        raise UserError(str(exc)) from None
    out: dict[str, Any] = {k: doc[k] for k in _OCI_TOP_KEYS if doc.get(k) is not None}
    if arches:
        out["architectures"] = arches
    out["syscalls"] = [_oci_rule(r) for r in rules]
    return out


def docker_json(profile: Profile, ledger: Ledger) -> dict[str, Any]:
    found = source_document(profile.seccomp.profile)
    if found is None:
        raise UserError(
            f"profile {profile.name!r} has seccomp unconfined: there is no filter to export; "
            "--format docker-args, kubernetes and oci express unconfined"
        )
    ledger.carry("seccomp.profile")
    return resolve_caps(found[1], profile.capabilities.keep)


def spo_object(profile: Profile, ledger: Ledger, namespace: str | None = None) -> dict[str, Any]:
    """A Security Profiles Operator SeccompProfile holding the resolved rules for this architecture."""
    found = source_document(profile.seccomp.profile)
    if found is None:
        raise UserError(f"profile {profile.name!r} has seccomp unconfined: there is no filter to export")
    ledger.carry("seccomp.profile")
    oci = oci_seccomp(found[1], profile.capabilities.keep)
    default_errno = oci.pop("defaultErrnoRet", None)
    if default_errno is not None and int(default_errno) != errno.EPERM:
        ledger.partly(
            "seccomp.profile",
            f"SeccompProfile has no defaultErrnoRet: denied calls return EPERM instead of errno "
            f"{default_errno}",
        )
    ledger.tell(
        f"the SeccompProfile is resolved for {os.uname().machine} (SPO has no per-architecture rules); "
        "pods reference it as localhostProfile operator/NAMESPACE/" + spo_name(profile) + ".json"
    )
    meta: dict[str, Any] = {
        "name": spo_name(profile),
        "labels": {"app.kubernetes.io/managed-by": "pysandbox"},
    }
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": SPO_API, "kind": "SeccompProfile", "metadata": meta, "spec": oci}


def spo_name(profile: Profile) -> str:
    return dns_label(f"pysandbox-{profile.name}")


def dns_label(text: str) -> str:
    """A Kubernetes object name from free text (profile names may be file stems)."""
    import re

    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return label[:63].rstrip("-") or "pysandbox"
