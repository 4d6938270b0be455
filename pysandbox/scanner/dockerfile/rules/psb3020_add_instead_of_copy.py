"""PSB3020: ADD for plain files and folders."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.scanner.dockerfile.rules._common import is_archive, is_url, source_and_dest
from pysandbox.types import Finding, Severity


class AddInsteadOfCopy(InstructionRule):
    id = "PSB3020"
    severity = Severity.HIGH
    title = "ADD used for files and folders"
    message = (
        "ADD also fetches URLs and unpacks archives, which hides what gets into the image: "
        "use COPY for local files and folders."
    )
    fix = "COPY src/ /app/src/"
    aliases = ("DL3020", "DS-0005", "AVD-DS-0005", "CKV_DOCKER_4")
    instructions = ("ADD",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        sources, _ = source_and_dest(inst.args, {h.name for h in inst.heredocs})
        plain = [s for s in sources if not (is_archive(s) or is_url(s) or s.startswith("git@"))]
        if plain:
            yield self.at(df, inst, f"ADD {' '.join(plain)}: use COPY for local files and folders.")
