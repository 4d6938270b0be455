"""PSB3034: zypper install/remove without a non-interactive switch."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import runs
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity

ZYPPER_CHANGES = frozenset({"install", "in", "remove", "rm", "source-install", "si", "patch"})


class ZypperYes(RunRule):
    id = "PSB3034"
    severity = Severity.MEDIUM
    title = "zypper without a non-interactive switch"
    message = (
        "zypper asks for confirmation and the build fails: use `zypper --non-interactive install` "
        "or `zypper install -y`."
    )
    fix = "zypper --non-interactive install --no-recommends curl=8.0.1"
    aliases = ("DL3034",)

    def check_command(self, cmd: Command) -> str | bool:
        if not runs(cmd, {"zypper"}, ZYPPER_CHANGES):
            return False
        # -n / --non-interactive are zypper's global switches; hadolint only knows -y / --no-confirm
        return not cmd.has_flag("y", "no-confirm", "n", "non-interactive")
