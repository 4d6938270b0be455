"""PSB3000: WORKDIR with a relative path depends on the previous WORKDIR."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.types import Finding, Severity

_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")


class WorkdirAbsolute(InstructionRule):
    id = "PSB3000"
    severity = Severity.HIGH
    title = "WORKDIR path is not absolute"
    message = (
        "A relative WORKDIR resolves against the previous WORKDIR, which is easy to get wrong: "
        "use an absolute path."
    )
    fix = "WORKDIR /app"
    aliases = ("DL3000", "DS-0009", "AVD-DS-0009", "CKV_DOCKER_10")
    instructions = ("WORKDIR",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        raw = inst.text.strip().strip("\"'")
        if not raw or raw.startswith(("/", "$")) or _WINDOWS_ABSOLUTE.match(raw):
            return
        yield self.at(
            df, inst, f"WORKDIR {raw} is relative: use an absolute path such as /{raw.lstrip('./')}."
        )
