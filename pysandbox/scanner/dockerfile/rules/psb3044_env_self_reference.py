"""PSB3044: ENV referring to a variable defined in the same ENV instruction."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.types import Finding, Severity


def references(name: str, value: str) -> bool:
    """`$NAME` or `${NAME}` / `${NAME:-x}` in `value` (not `$NAMEX`)."""
    pattern = rf"\$(?:{re.escape(name)}(?![A-Za-z0-9_])|\{{{re.escape(name)}(?:[:}}+?-]))"
    return re.search(pattern, value) is not None


class EnvSelfReference(InstructionRule):
    id = "PSB3044"
    severity = Severity.HIGH
    title = "ENV refers to a variable set in the same ENV"
    message = (
        "Variables set by an ENV are only visible to the next instructions, so `ENV A=1 B=$A` "
        "gives B the old value of A: split it into two ENV instructions."
    )
    fix = "ENV A=1\nENV B=$A"
    aliases = ("DL3044",)
    instructions = ("ENV",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        args = inst.args
        pairs = [(args[i], args[i + 1] if i + 1 < len(args) else "") for i in range(0, len(args), 2)]
        for index, (name, _) in enumerate(pairs):
            if name in inst.env:  # defined before this ENV: the reference sees that value
                continue
            if any(references(name, value) for j, (_, value) in enumerate(pairs) if j != index):
                yield self.at(df, inst, f"`{name}` is set and used in the same ENV: set it in an ENV before.")
                return
