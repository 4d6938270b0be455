"""PSB3047: wget without a quiet progress setting."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class WgetProgress(RunRule):
    id = "PSB3047"
    severity = Severity.LOW
    title = "wget without --progress"
    message = (
        "wget's default progress bar floods the build log: use `wget --progress=dot:giga`, `-q` or `-nv`."
    )
    fix = "wget -nv https://example.com/file"
    aliases = ("DL3047",)

    def check_command(self, cmd: Command) -> str | bool:
        if cmd.name != "wget":
            return False
        quiet = cmd.has_flag("progress", "q", "quiet", "o", "output-file", "a", "append-output", "no-verbose")
        return not quiet and not cmd.has_arg("-nv")
