"""PSB-A014: host devices passed through to the container."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pysandbox.audit.config.model import Device, Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.types import Finding, Severity

_MEMORY = {"/dev/mem", "/dev/kmem", "/dev/port"}
_DISK = re.compile(r"^/dev/(sd|hd|vd|xvd|nvme|mmcblk|dm-|md|loop|nbd|mapper/|disk/)")


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        for dev in c.devices:
            severity, why = _risk(dev)
            yield RULE.finding(
                w, c, f"gets host device {dev.path}: {why}", dev.line or c.line, severity=severity
            )


def _risk(dev: Device) -> tuple[Severity, str]:
    if dev.all_devices:
        return Severity.CRITICAL, "it may create and use any device node, host disks included"
    if dev.path in _MEMORY:
        return Severity.CRITICAL, "raw access to physical or kernel memory"
    if _DISK.match(dev.path):
        return Severity.CRITICAL, "raw access to a host disk bypasses every file permission"
    if dev.path in ("/dev/kvm", "/dev/fuse", "/dev/net/tun"):
        return Severity.MEDIUM, "widens the kernel attack surface"
    return Severity.MEDIUM, "direct access to host hardware"


RULE = Rule(
    id="PSB-A014",
    severity=Severity.MEDIUM,
    title="Host device passed through",
    fix="Do not pass host devices; if one is needed, pass only that device, read-only where possible.",
    aliases=("docker-bench:5.17",),
    check=check,
)
