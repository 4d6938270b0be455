"""PSB3006: FROM without a tag or digest."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._images import refers_to_earlier_stage, unresolved_image_name
from pysandbox.types import Finding, Severity


class UntaggedImage(Rule):
    id = "PSB3006"
    severity = Severity.MEDIUM
    title = "Base image without a tag"
    message = (
        "An image without a tag means :latest, which changes under you: "
        "pin a version tag (and ideally a digest)."
    )
    fix = "FROM debian:12.5-slim@sha256:<digest>"
    aliases = ("DL3006", "DS-0001", "AVD-DS-0001", "CKV_DOCKER_7")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            ref = stage.ref
            if not stage.image or ref.is_scratch or ref.digest or ref.tag is not None:
                continue
            if refers_to_earlier_stage(df, stage) or unresolved_image_name(stage):
                continue
            yield self.at(
                df,
                stage.from_,
                f"FROM {stage.image} has no tag: pin a version, e.g. {stage.image}:<version>.",
            )
