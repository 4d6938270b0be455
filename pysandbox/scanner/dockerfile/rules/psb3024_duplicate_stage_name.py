"""PSB3024: two stages with the same name."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


class DuplicateStageName(Rule):
    id = "PSB3024"
    severity = Severity.HIGH
    title = "Stage name defined twice"
    message = (
        "Two FROM ... AS use the same name, so references to it are ambiguous: give each stage its own name."
    )
    aliases = ("DL3024", "DS-0012", "AVD-DS-0012", "CKV_DOCKER_11")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        seen: dict[str, int] = {}
        for stage in df.stages:
            if not stage.name:
                continue
            if stage.name in seen:
                yield self.at(
                    df, stage.from_, f"Stage name {stage.name} is already used on line {seen[stage.name]}."
                )
            else:
                seen[stage.name] = stage.from_.line
