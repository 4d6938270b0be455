"""PSB4001: both wget and curl used in one stage."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity

_TOOLS = frozenset({"wget", "curl"})


class WgetAndCurl(Rule):
    id = "PSB4001"
    severity = Severity.MEDIUM
    title = "Both wget and curl used"
    message = "Using both wget and curl installs two tools that do the same thing: pick one of them."
    aliases = ("DL4001", "DS-0014", "AVD-DS-0014")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            seen: set[str] = set()
            for inst in stage.instructions:
                if inst.kind != "RUN" or inst.shell is None:
                    continue
                used = inst.shell.names() & _TOOLS
                seen |= used
                if used and seen == _TOOLS:
                    yield self.at(df, inst)
