"""PSB4004: more than one ENTRYPOINT in a stage."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


class MultipleEntrypoint(Rule):
    id = "PSB4004"
    severity = Severity.HIGH
    title = "Multiple ENTRYPOINT instructions"
    message = "Only the last ENTRYPOINT of a stage takes effect: keep one."
    aliases = ("DL4004", "DS-0007", "AVD-DS-0007")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            for inst in [i for i in stage.instructions if i.cmd == "ENTRYPOINT"][1:]:
                yield self.at(df, inst)
