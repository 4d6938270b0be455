"""PSB3029: FROM --platform with a fixed platform."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity

# BuildKit's automatic platform args: using them keeps the build multi-platform
_AUTOMATIC = ("BUILDPLATFORM", "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "BUILDOS", "BUILDARCH")


class FromPlatform(Rule):
    id = "PSB3029"
    severity = Severity.MEDIUM
    title = "FROM --platform with a fixed value"
    message = (
        "A hard-coded --platform breaks multi-platform builds and emulates on other hosts: drop it, "
        "or use $BUILDPLATFORM / $TARGETPLATFORM."
    )
    aliases = ("DL3029",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            if stage.platform is None:
                continue
            platform = df.expand(stage.platform, stage.from_)
            if not any(v in platform for v in _AUTOMATIC):
                yield self.at(
                    df, stage.from_, f"FROM --platform={platform}: use $BUILDPLATFORM or $TARGETPLATFORM."
                )
