"""PSB3065: `FROM --platform=$TARGETPLATFORM`, which is what FROM does anyway."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.types import Finding, Severity

_TARGET = frozenset({"$TARGETPLATFORM", "${TARGETPLATFORM}"})


class RedundantTargetPlatform(InstructionRule):
    id = "PSB3065"
    severity = Severity.MEDIUM
    title = "FROM --platform=$TARGETPLATFORM is redundant"
    message = (
        "FROM already pulls the image for the target platform: drop `--platform=$TARGETPLATFORM` "
        "(use --platform=$BUILDPLATFORM for stages that must run natively on the build host)."
    )
    fix = "FROM alpine:3.20"
    aliases = ("DL3065",)
    instructions = ("FROM",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        platform = inst.flag("platform")
        if platform is not None and platform.strip("\"'") in _TARGET:
            yield self.at(df, inst)
