"""PSB3030: yum install without -y."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class YumYes(RunRule):
    id = "PSB3030"
    severity = Severity.MEDIUM
    title = "yum install without -y"
    message = "Without -y, yum asks for confirmation and the build fails: use `yum install -y`."
    fix = "yum install -y <package>-<version>"
    aliases = ("DL3030",)

    def check_command(self, cmd: Command) -> str | bool:
        if cmd.name != "yum" or not cmd.has_arg("install", "groupinstall", "localinstall"):
            return False
        return not cmd.has_flag("y", "assumeyes")
