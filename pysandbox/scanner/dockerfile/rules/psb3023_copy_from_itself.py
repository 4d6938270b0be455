"""PSB3023: COPY --from naming the stage it is in."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


class CopyFromItself(Rule):
    id = "PSB3023"
    severity = Severity.HIGH
    title = "COPY --from references its own stage"
    message = "A stage cannot copy from itself: copy from an earlier stage, or drop --from."
    aliases = ("DL3023", "DS-0006", "AVD-DS-0006")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            for inst in stage.of("COPY"):
                source = inst.flag("from")
                if source is None:
                    continue
                value = inst.word(source).lower()
                if (stage.name and value == stage.name) or value == str(stage.index):
                    yield self.at(df, inst, f"COPY --from={value} is the stage this COPY is in.")
