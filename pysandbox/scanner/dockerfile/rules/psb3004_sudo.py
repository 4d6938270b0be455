"""PSB3004: sudo in RUN."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class Sudo(RunRule):
    id = "PSB3004"
    severity = Severity.HIGH
    title = "sudo used in RUN"
    message = (
        "sudo has unpredictable TTY and signal behaviour and needs a setuid binary in the image: "
        "RUN already runs as the current USER; switch with USER, or use gosu/su-exec at run time."
    )
    aliases = ("DL3004", "DS-0010", "AVD-DS-0010", "CKV2_DOCKER_1")

    def check_command(self, cmd: Command) -> str | bool:
        return cmd.name == "sudo"
