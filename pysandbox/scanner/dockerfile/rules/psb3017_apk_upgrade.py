"""PSB3017: apk upgrade in a build."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class ApkUpgrade(RunRule):
    id = "PSB3017"
    severity = Severity.LOW
    title = "apk upgrade used"
    message = (
        "apk upgrade makes the image depend on the day it was built: use a newer base image, "
        "or pin the packages you need with `apk add <package>=<version>`."
    )
    aliases = ("DL3017",)

    def check_command(self, cmd: Command) -> str | bool:
        return cmd.is_("apk", "upgrade")
