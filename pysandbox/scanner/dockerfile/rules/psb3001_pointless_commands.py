"""PSB3001: commands that make no sense in a container build (ssh, vim, shutdown, service, ...)."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity

POINTLESS = frozenset({"free", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim"})


class PointlessCommands(RunRule):
    id = "PSB3001"
    severity = Severity.LOW
    title = "Command that makes no sense in a container build"
    message = (
        "Interactive or system-management commands (ssh, vim, shutdown, service, ps, free, top, kill, mount) "
        "do nothing useful in a build step: remove them or do the work another way."
    )
    aliases = ("DL3001",)

    def check_command(self, cmd: Command) -> str | bool:
        if cmd.name in POINTLESS:
            return f"`{cmd.name}` makes no sense in a container build: remove it."
        return False
