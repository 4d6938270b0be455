"""PSB3063: a build stage named `scratch` or `context`, names BuildKit reserves."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity

# `FROM scratch` is the empty image and `context` the build context (`--build-context`, `COPY --from=context`)
RESERVED_STAGE_NAMES = frozenset({"scratch", "context"})


class ReservedStageName(Rule):
    id = "PSB3063"
    severity = Severity.MEDIUM
    title = "Reserved word as stage name"
    message = (
        "`scratch` and `context` already mean the empty image and the build context: a stage with that "
        "name is ambiguous in FROM and COPY --from. Rename the stage."
    )
    fix = "FROM alpine:3.20 AS base"
    aliases = ("DL3063",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            if stage.name in RESERVED_STAGE_NAMES:
                yield self.at(df, stage.from_, f"Stage name `{stage.name}` is reserved: rename the stage.")
