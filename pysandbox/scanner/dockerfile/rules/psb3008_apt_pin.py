"""PSB3008: `apt-get install` of packages without pinned versions."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command, ShellScript
from pysandbox.types import Finding, Severity

# apt-get options whose value is the next word (so that value is not taken for a package)
APT_OPTIONS_WITH_VALUE = frozenset({"-t", "--target-release", "--default-release", "-o", "--option", "-c",
                                    "--config-file", "-a", "--host-architecture"})  # fmt: skip


def apt_get_packages(cmd: Command) -> list[str]:
    """Package arguments of `apt-get install ...` (empty when cmd is something else)."""
    if cmd.name != "apt-get":
        return []
    positional = cmd.positional(APT_OPTIONS_WITH_VALUE)
    return positional[1:] if positional[:1] == ["install"] else []


def is_pinned(package: str) -> bool:
    """`pkg=1.2*`, `pkg/bookworm-backports` and local `.deb` files are pinned."""
    return "=" in package or "/" in package or package.endswith(".deb")


class AptPin(RunRule):
    id = "PSB3008"
    severity = Severity.MEDIUM
    title = "apt-get install without pinned versions"
    message = (
        "Unpinned apt packages make builds unreproducible and can pull in unexpected updates: pin versions."
    )
    fix = "apt-get install -y --no-install-recommends curl=7.88.*"
    aliases = ("DL3008",)

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterator[Finding]:
        unpinned = [p for cmd in script for p in apt_get_packages(cmd) if not is_pinned(p)]
        if unpinned:
            names = ", ".join(dict.fromkeys(unpinned))
            yield self.at(df, inst, f"Pin the versions of {names} (apt-get install <package>=<version>).")
