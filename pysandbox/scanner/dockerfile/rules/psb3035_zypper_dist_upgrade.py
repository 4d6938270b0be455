"""PSB3035: zypper dist-upgrade in RUN."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import runs
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class ZypperDistUpgrade(RunRule):
    id = "PSB3035"
    severity = Severity.MEDIUM
    title = "zypper dist-upgrade in RUN"
    message = (
        "`zypper dist-upgrade` can move the image to another distribution release at build time: "
        "use a newer base image instead."
    )
    aliases = ("DL3035",)

    def check_command(self, cmd: Command) -> str | bool:
        return runs(cmd, {"zypper"}, {"dist-upgrade", "dup"})
