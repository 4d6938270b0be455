"""PSB4003: more than one CMD in a stage."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


class MultipleCmd(Rule):
    id = "PSB4003"
    severity = Severity.MEDIUM
    title = "Multiple CMD instructions"
    message = "Only the last CMD of a stage takes effect: keep one."
    aliases = ("DL4003", "DS-0016", "AVD-DS-0016")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            for inst in [i for i in stage.instructions if i.cmd == "CMD"][1:]:
                yield self.at(df, inst)
