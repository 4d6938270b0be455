"""PSB4005: replacing /bin/sh with ln instead of using SHELL."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class LnBinSh(RunRule):
    id = "PSB4005"
    severity = Severity.MEDIUM
    title = "ln of /bin/sh instead of SHELL"
    message = (
        "Relinking /bin/sh changes the shell of every script in the image: "
        "use the SHELL instruction to change the shell of RUN."
    )
    fix = 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]'
    aliases = ("DL4005",)

    def check_command(self, cmd: Command) -> str | bool:
        return cmd.name == "ln" and cmd.has_arg("/bin/sh")
