"""PSB3021: COPY/ADD of several sources to a destination without a trailing slash."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.scanner.dockerfile.rules._common import source_and_dest, unquote
from pysandbox.types import Finding, Severity


class CopyDestSlash(InstructionRule):
    id = "PSB3021"
    severity = Severity.HIGH
    title = "Several sources copied to a destination without a trailing /"
    message = "With more than one source the destination must be a directory: end it with /."
    fix = "COPY a.txt b.txt /app/"
    aliases = ("DL3021", "DS-0011", "AVD-DS-0011")
    instructions = ("COPY", "ADD")

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        sources, dest = source_and_dest(inst.args, set())
        if dest is not None and len(sources) > 1 and not unquote(dest).endswith(("/", "\\")):
            yield self.at(
                df, inst, f"{inst.kind} has {len(sources)} sources: end the destination {dest} with /."
            )
