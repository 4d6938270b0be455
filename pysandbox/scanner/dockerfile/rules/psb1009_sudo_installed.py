"""PSB1009: sudo installed into the image."""

from __future__ import annotations

import re

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity

# package manager -> subcommands that install
_INSTALLERS = {"apt-get": {"install"}, "apt": {"install"}, "apk": {"add"}, "yum": {"install"},
               "dnf": {"install"}, "microdnf": {"install"}, "tdnf": {"install"}, "zypper": {"install", "in"},
               "pacman": {"-S", "-Sy", "-Syu"}, "emerge": set()}  # fmt: skip
_SUDO = re.compile(r"^sudo(?:[=<>~-]\d.*|/.+)?$")


def installs_sudo(cmd: Command) -> bool:
    subcommands = _INSTALLERS.get(cmd.name)
    if subcommands is None:
        return False
    if subcommands and not any(a in subcommands for a in cmd.args):
        return False
    return any(_SUDO.match(a) for a in cmd.args if not a.startswith("-"))


class SudoInstalled(RunRule):
    id = "PSB1009"
    severity = Severity.MEDIUM
    title = "sudo installed in the image"
    message = (
        "sudo in an image is a setuid root binary and an escalation path for whoever gets a shell in "
        "the container: do the root steps at build time, and use gosu/su-exec in entrypoints."
    )

    def check_command(self, cmd: Command) -> str | bool:
        return installs_sudo(cmd)
