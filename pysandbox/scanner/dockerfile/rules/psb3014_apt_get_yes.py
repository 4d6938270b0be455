"""PSB3014: apt-get install without -y."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class AptGetYes(RunRule):
    id = "PSB3014"
    severity = Severity.MEDIUM
    title = "apt-get install without -y"
    message = (
        "Without -y, apt-get asks for confirmation and the build fails or hangs: use `apt-get install -y`."
    )
    fix = "apt-get install -y --no-install-recommends <package>=<version>"
    aliases = ("DL3014", "DS-0021", "AVD-DS-0021")

    def check_command(self, cmd: Command) -> str | bool:
        if cmd.name != "apt-get" or not cmd.has_arg("install"):
            return False
        if cmd.has_flag("y", "yes", "assume-yes", "q"):
            return False
        return not any(a.lower().startswith("apt::get::assume-yes=true") for a in cmd.args)
