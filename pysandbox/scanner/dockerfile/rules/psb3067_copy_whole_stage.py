"""PSB3067: COPY --from of a stage's entire filesystem."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.scanner.dockerfile.rules._common import source_and_dest, unquote
from pysandbox.types import Finding, Severity


class CopyWholeStage(InstructionRule):
    id = "PSB3067"
    severity = Severity.MEDIUM
    title = "COPY of an entire filesystem from another stage"
    message = (
        "`COPY --from=<stage> / /` lays everything of that stage over the image, build tools and "
        "caches included: copy only the files the image needs."
    )
    fix = "COPY --from=build /app/bin/server /usr/local/bin/server"
    aliases = ("DL3067",)
    instructions = ("COPY",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        if inst.cmd != "COPY" or not inst.flag("from"):
            return
        sources, dest = source_and_dest(inst.args, set())
        # `COPY --from=tools / /usr/local/` of a scratch artifact stage is the usual way to ship
        # binaries; the root over the root replaces the whole image
        if dest is not None and unquote(dest) == "/" and any(unquote(s) == "/" for s in sources):
            yield self.at(df, inst)
