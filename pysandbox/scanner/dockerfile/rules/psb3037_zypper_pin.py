"""PSB3037: zypper install of packages without pinned versions."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import args_without_flags, runs
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


def zypper_pinned(package: str) -> bool:
    return any(op in package for op in ("=", ">", "<")) or package.endswith(".rpm")


class ZypperPin(RunRule):
    id = "PSB3037"
    severity = Severity.MEDIUM
    title = "zypper install without pinned versions"
    message = "Unpinned zypper packages make builds unreproducible: use `zypper install <package>=<version>`."
    fix = "zypper --non-interactive install curl=8.0.1"
    aliases = ("DL3037",)

    def check_command(self, cmd: Command) -> str | bool:
        if not runs(cmd, {"zypper"}, {"install", "in"}):
            return False
        unpinned = [w for w in args_without_flags(cmd, {"install", "in"}) if not zypper_pinned(w)]
        if unpinned:
            return f"Pin the versions of {', '.join(unpinned)} (zypper install <package>=<version>)."
        return False
