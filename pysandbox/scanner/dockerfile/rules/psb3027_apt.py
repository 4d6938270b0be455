"""PSB3027: apt (the interactive front end) in a build."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class Apt(RunRule):
    id = "PSB3027"
    severity = Severity.MEDIUM
    title = "apt used instead of apt-get"
    message = "apt's command-line interface is not stable for scripts: use apt-get or apt-cache."
    fix = "apt-get install -y --no-install-recommends <package>=<version>"
    aliases = ("DL3027", "CKV_DOCKER_9")

    def check_command(self, cmd: Command) -> str | bool:
        return cmd.name == "apt" and bool(cmd.args)
