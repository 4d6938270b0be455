"""PSB3005: apt-get dist-upgrade / upgrade in a build."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class AptDistUpgrade(RunRule):
    id = "PSB3005"
    severity = Severity.MEDIUM
    title = "apt-get dist-upgrade used"
    message = (
        "dist-upgrade can replace essential packages of the base image and makes the build unreproducible: "
        "use a newer base image, or install the specific packages you need."
    )
    aliases = ("DL3005", "DS-0024", "AVD-DS-0024")

    def check_command(self, cmd: Command) -> str | bool:
        return cmd.name == "apt-get" and cmd.has_arg("dist-upgrade")
