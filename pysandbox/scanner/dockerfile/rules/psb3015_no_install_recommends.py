"""PSB3015: apt-get install without --no-install-recommends."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class NoInstallRecommends(RunRule):
    id = "PSB3015"
    severity = Severity.LOW
    title = "apt-get install without --no-install-recommends"
    message = (
        "Recommended packages bloat the image and widen its attack surface: "
        "add --no-install-recommends and list what you need."
    )
    fix = "apt-get install -y --no-install-recommends <package>=<version>"
    aliases = ("DL3015", "DS-0029", "AVD-DS-0029")

    def check_command(self, cmd: Command) -> str | bool:
        if cmd.name != "apt-get" or not cmd.has_arg("install"):
            return False
        if cmd.has_flag("no-install-recommends"):
            return False
        return not any(a.replace(" ", "") == "APT::Install-Recommends=false" for a in cmd.args)
