"""PSB3038: dnf/microdnf install without -y."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import runs
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity

DNF = frozenset({"dnf", "microdnf"})


class DnfYes(RunRule):
    id = "PSB3038"
    severity = Severity.MEDIUM
    title = "dnf install without -y"
    message = "Without -y, dnf asks for confirmation and the build fails: use `dnf install -y <package>`."
    fix = "dnf install -y httpd-2.4.57"
    aliases = ("DL3038",)

    def check_command(self, cmd: Command) -> str | bool:
        if not runs(cmd, DNF, {"install", "groupinstall", "localinstall"}):
            return False
        return not cmd.has_flag("y", "assumeyes")
