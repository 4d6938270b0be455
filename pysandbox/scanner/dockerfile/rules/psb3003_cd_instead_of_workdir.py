"""PSB3003: `cd` in RUN instead of WORKDIR."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class CdInsteadOfWorkdir(RunRule):
    id = "PSB3003"
    severity = Severity.LOW
    title = "cd used to change directory"
    message = (
        "`cd` in RUN only lasts for that RUN and hides where later steps run: use WORKDIR "
        "(or `make -C dir`, `git -C dir`) instead."
    )
    fix = "WORKDIR /src"
    aliases = ("DL3003", "DS-0013", "AVD-DS-0013")

    def check_command(self, cmd: Command) -> str | bool:
        return cmd.name == "cd"
