"""PSB4000: MAINTAINER is deprecated."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.types import Finding, Severity


class Maintainer(InstructionRule):
    id = "PSB4000"
    severity = Severity.HIGH
    title = "MAINTAINER is deprecated"
    message = 'MAINTAINER is deprecated and not shown by most tools: use `LABEL maintainer="..."`.'
    fix = 'LABEL maintainer="Jane Doe <jane@example.com>"'
    aliases = ("DL4000", "DS-0022", "AVD-DS-0022", "CKV_DOCKER_6")
    instructions = ("MAINTAINER",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        if inst.cmd == "MAINTAINER":
            yield self.at(df, inst, fix=f'LABEL maintainer="{inst.text}"')
