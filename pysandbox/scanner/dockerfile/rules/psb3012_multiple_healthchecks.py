"""PSB3012: more than one HEALTHCHECK in a stage."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


class MultipleHealthchecks(Rule):
    id = "PSB3012"
    severity = Severity.HIGH
    title = "Multiple HEALTHCHECK instructions"
    message = "Only the last HEALTHCHECK of a stage takes effect: keep one."
    aliases = ("DL3012", "DS-0023", "AVD-DS-0023")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            checks = [i for i in stage.instructions if i.cmd == "HEALTHCHECK"]
            for inst in checks[1:]:
                yield self.at(df, inst)
