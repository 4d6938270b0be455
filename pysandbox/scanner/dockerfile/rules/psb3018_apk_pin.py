"""PSB3018: apk add of packages without pinned versions."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity

APK_OPTIONS_WITH_VALUE = frozenset({"-t", "--virtual", "--repository", "-X", "--root", "-p", "--arch",
                                    "--keys-dir", "--repositories-file", "--cache-dir"})  # fmt: skip


def apk_add_packages(cmd: Command) -> list[str]:
    if cmd.name != "apk":
        return []
    words = cmd.positional(APK_OPTIONS_WITH_VALUE)
    return words[1:] if words[:1] == ["add"] else []


class ApkPin(RunRule):
    id = "PSB3018"
    severity = Severity.MEDIUM
    title = "apk add without pinned versions"
    message = "Unpinned apk packages make builds unreproducible: use `apk add <package>=<version>`."
    fix = "apk add --no-cache curl=8.5.0-r0"
    aliases = ("DL3018",)

    def check_command(self, cmd: Command) -> str | bool:
        unpinned = [p for p in apk_add_packages(cmd) if not ("=" in p or "~" in p or p.endswith(".apk"))]
        if unpinned:
            return f"Pin the versions of {', '.join(unpinned)} (apk add <package>=<version>)."
        return False
