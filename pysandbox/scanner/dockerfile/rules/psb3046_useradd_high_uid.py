"""PSB3046: useradd with a high UID and without -l."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class UseraddHighUid(RunRule):
    id = "PSB3046"
    severity = Severity.MEDIUM
    title = "useradd with a high UID without -l"
    message = (
        "useradd fills /var/log/lastlog and faillog up to the UID, so a large UID makes a huge sparse "
        "file in the layer: add `-l` (--no-log-init)."
    )
    fix = "useradd -l -u 123456 app"
    aliases = ("DL3046",)

    def check_command(self, cmd: Command) -> str | bool:
        if cmd.name != "useradd" or cmd.has_flag("l", "no-log-init"):
            return False
        uid = cmd.flag_value("u", "uid")
        return uid is not None and not uid.startswith("$") and len(uid) > 5
