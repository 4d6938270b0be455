"""PSB3039: dnf upgrade in RUN."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import runs
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class DnfUpgrade(RunRule):
    id = "PSB3039"
    severity = Severity.HIGH
    title = "dnf upgrade in RUN"
    message = (
        "`dnf upgrade` upgrades every package to whatever is current at build time, so two builds "
        "differ: use a newer base image, or install pinned versions."
    )
    aliases = ("DL3039",)

    def check_command(self, cmd: Command) -> str | bool:
        # `dnf update` is an alias of `dnf upgrade` (hadolint only knows the latter)
        return runs(cmd, {"dnf"}, {"upgrade", "upgrade-minimal", "update", "distro-sync"})
