"""PSB1002: ADD of a remote URL without --checksum."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.scanner.dockerfile.rules._common import is_url, source_and_dest
from pysandbox.types import Finding, Severity


class AddUrlChecksum(InstructionRule):
    id = "PSB1002"
    severity = Severity.HIGH
    title = "ADD of a remote URL without --checksum"
    message = (
        "ADD downloads the URL as it is at build time, so a compromised or changed file goes into "
        "the image unnoticed: add `--checksum=sha256:<digest>` (or download and verify in RUN)."
    )
    fix = "ADD --checksum=sha256:<digest> https://example.com/tool.tar.gz /tmp/"
    instructions = ("ADD",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        if inst.has_flag("checksum"):
            return
        sources, _ = source_and_dest(inst.args, {h.name for h in inst.heredocs})
        remote = [s for s in sources if is_url(inst.word(s))]
        if remote:
            yield self.at(df, inst, f"ADD {' '.join(remote)} without --checksum: pin the sha256 of the file.")
