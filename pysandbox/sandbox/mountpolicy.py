"""The profile's mount policy applied to `-v` before anything is mounted.

Denied host paths, a bind mode (ro, rw) missing from `mounts.allowed_options` and
`allow_volumes: false` always refuse; a risky mount (audit.mountrisk) is
refused, warned about or allowed per `mounts.risky`, and `--allow-unsafe` turns a refusal into a
warning that is recorded as a policy override.
"""

from __future__ import annotations

import os

from pysandbox.sandbox.spec import RunSpec, Volume
from pysandbox.types import SandboxError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pysandbox.types import Finding


def _within(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def denied_by(volume: Volume, denied: tuple[str, ...]) -> str | None:
    """The denied host path this bind would expose (it, something under it, or a parent of it)."""
    sources = {os.path.normpath(volume.source), os.path.realpath(volume.source)}
    for entry in denied:
        entry = os.path.normpath(entry)
        for source in sources:
            if source == entry or (entry != "/" and _within(source, entry)) or _within(entry, source):
                return entry
    return None


def check_volumes(spec: RunSpec, rec: Any, warn: Callable[[str], None]) -> dict[str, Finding]:
    """Findings by volume spec; raises SandboxError (exit 125) for a refused mount."""
    if not spec.volumes:
        return {}
    from pysandbox.audit import mountrisk

    policy = spec.profile.mounts
    findings: dict[str, Finding] = {}
    for volume in spec.volumes:
        if not policy.allow_volumes:
            message = (
                f"profile {spec.profile.name!r} allows no volumes: remove -v {volume.spec} or change profile"
            )
            _deny(rec, volume, "volumes-disabled", message)
        mode = "ro" if volume.read_only else "rw"
        if mode not in policy.allowed_options:
            allowed = " or ".join(f":{o}" for o in ("ro", "rw") if o in policy.allowed_options) or "none"
            _deny(rec, volume, "mount-option-denied",
                  f"-v {volume.spec}: profile {spec.profile.name!r} does not allow {mode} binds "
                  f"(mounts.allowed_options): bind it with {allowed}")  # fmt: skip
        if volume.name is None:
            entry = denied_by(volume, policy.denied_host_paths)
            if entry is not None:
                _deny(rec, volume, "denied-host-path",
                      f"-v {volume.spec} exposes {entry}, which profile {spec.profile.name!r} denies: "
                      "bind a narrower directory")  # fmt: skip
        finding = (
            mountrisk.assess(volume.source, volume.target, volume.read_only) if volume.name is None else None
        )
        if finding is None:
            continue
        findings[volume.spec] = finding
        text = finding.message + (f": {finding.fix}" if finding.fix else "")
        if policy.risky == "refuse" and not spec.allow_unsafe:
            _deny(rec, volume, finding.rule_id, text + " (or pass --allow-unsafe)", finding.severity.label)
        if policy.risky == "refuse":
            if rec is not None:
                rec.event("policy_override", rule=finding.rule_id, mount=volume.spec, message=finding.message,
                          severity=finding.severity.label)  # fmt: skip
            warn(f"{finding.message} (allowed by --allow-unsafe)")
        elif policy.risky == "warn":
            warn(finding.message)
    return findings


def _deny(rec: Any, volume: Volume, rule: str, message: str, severity: str | None = None) -> None:
    if rec is not None:
        rec.event(
            "policy_denied", durable=True, rule=rule, mount=volume.spec, message=message, severity=severity
        )
    raise SandboxError(message)
