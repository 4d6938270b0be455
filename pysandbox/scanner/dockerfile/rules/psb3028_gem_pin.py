"""PSB3028: gem install without pinned versions."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity

_GEM_OPTIONS_WITH_VALUE = frozenset(
    {"-i", "--install-dir", "-n", "--bindir", "-s", "--source", "-P", "--trust-policy", "--platform", "-g"}
)


class GemPin(RunRule):
    id = "PSB3028"
    severity = Severity.MEDIUM
    title = "gem install without pinned versions"
    message = "Unpinned gems make builds unreproducible: use `gem install <gem>:<version>` or `-v <version>`."
    fix = "gem install bundler:2.5.6"
    aliases = ("DL3028",)

    def check_command(self, cmd: Command) -> str | bool:
        if cmd.name != "gem" or cmd.has_flag("v", "version"):
            return False
        words = cmd.positional(_GEM_OPTIONS_WITH_VALUE)
        if not words or words[0] not in ("install", "i"):
            return False
        unpinned = [g for g in words[1:] if ":" not in g and not g.endswith(".gem")]
        if unpinned:
            return f"Pin the versions of {', '.join(unpinned)} (gem install <gem>:<version>)."
        return False
