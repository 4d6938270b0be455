"""PSB3041: dnf/microdnf install of packages without pinned versions."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import args_without_flags, has_any_arg, runs
from pysandbox.scanner.dockerfile.shell import Command, ShellScript
from pysandbox.types import Finding, Severity

_VERSION_PART = re.compile(r"^[A-Za-z0-9.~^_:+]+$")
_VARIABLE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def dnf_pinned(package: str, env: Mapping[str, str | None]) -> bool:
    """`httpd-2.4.57`, `nodejs-1:18.1-1.el9`, `*.rpm`, `mysql-server-$VERSION` (VERSION defined)."""
    if package.endswith(".rpm") or "/" in package:  # a local or downloaded rpm file
        return True
    parts = package.split("-")
    if len(parts) <= 1:
        return False
    rest = parts[1:]
    variable = _VARIABLE.match(rest[-1])
    if variable is not None:  # the version comes from a build arg/env: pinned if that is defined
        return bool(env.get(variable.group(1)))
    return all(p and _VERSION_PART.match(p) for p in rest) and any(p[:1].isdigit() for p in rest)


def unpinned_packages(cmd: Command, env: Mapping[str, str | None]) -> list[str]:
    if not runs(cmd, {"dnf", "microdnf"}, {"install"}) or has_any_arg(cmd, {"group"}):
        return []
    words = args_without_flags(cmd, {"install", "module"})
    if has_any_arg(cmd, {"module"}):
        return [w for w in words if ":" not in w]
    return [w for w in words if not dnf_pinned(w, env)]


class DnfPin(RunRule):
    id = "PSB3041"
    severity = Severity.MEDIUM
    title = "dnf install without pinned versions"
    message = (
        "Unpinned dnf packages make builds unreproducible: "
        "use `dnf install -y <package>-<version>` (modules: `<module>:<stream>`)."
    )
    fix = "dnf install -y httpd-2.4.57"
    aliases = ("DL3041",)

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterator[Finding]:
        unpinned = [p for cmd in script for p in unpinned_packages(cmd, inst.env)]
        if unpinned:
            names = ", ".join(dict.fromkeys(unpinned))
            yield self.at(df, inst, f"Pin the versions of {names} (dnf install -y <package>-<version>).")
