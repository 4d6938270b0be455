"""PSB-A020: a host path mounted writable where read-only would do (configuration, code, certificates)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import replace

from pysandbox.audit.config.model import Mount, Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.rules.mounts import host_mounts, sensitive, where
from pysandbox.types import Finding, Severity

_READ_MOSTLY_DIRS = ("/etc", "/usr", "/opt", "/lib", "/bin", "/sbin", "/srv/config", "/config")
_CONFIG_SUFFIXES = (
    ".conf",
    ".cfg",
    ".cnf",
    ".ini",
    ".yaml",
    ".yml",
    ".json",
    ".toml",
    ".xml",
    ".properties",
    ".env",
    ".pem",
    ".crt",
    ".cert",
    ".key",
    ".pub",
    ".rules",
    ".lua",
    ".js",
    ".py",
    ".sh",
)
_SOCKET_SUFFIXES = (".sock", ".socket")


def check(w: Workload) -> Iterator[Finding]:
    for c, m in host_mounts(w):
        if m.read_only or not m.target or sensitive(replace(m, read_only=False)) is not None:
            continue  # read-only, unmounted, or judged by PSB-A018
        if _read_mostly(m):
            yield RULE.finding(
                w,
                c,
                f"mounts {where(m)} read-write, though it holds configuration or code the "
                "workload only reads",
                m.line,
            )


def _read_mostly(m: Mount) -> bool:
    assert m.target is not None and m.source is not None
    if m.source.endswith(_SOCKET_SUFFIXES) or m.host_path_type == "Socket":
        return False  # read-only does not apply to sockets
    target = posixpath.normpath(m.target)
    if any(target == d or target.startswith(d + "/") for d in _READ_MOSTLY_DIRS):
        return True
    return m.host_path_type in ("File", "FileOrCreate") or m.source.endswith(_CONFIG_SUFFIXES)


RULE = Rule(
    id="PSB-A020",
    severity=Severity.LOW,
    title="Host path writable where read-only would do",
    fix="Mount it read-only (`:ro`, `readOnly: true`, option `ro`).",
    aliases=(),
    check=check,
)
