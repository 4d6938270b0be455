"""PSB3061: instructions before the first FROM (other than ARG)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


class InstructionOrder(Rule):
    id = "PSB3061"
    severity = Severity.HIGH
    title = "Instruction before FROM"
    message = (
        "A Dockerfile must start with FROM (only ARG and parser directives may come first): "
        "move this instruction after FROM."
    )
    aliases = ("DL3061",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for inst in df.instructions:
            if inst.cmd == "FROM":
                return
            if inst.cmd != "ARG":
                yield self.at(df, inst, f"{inst.cmd} before the first FROM: move it after FROM.")
