"""PSB1008: base image not pinned by digest."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._images import refers_to_earlier_stage, unresolved_image_name
from pysandbox.types import Finding, Severity


class DigestPin(Rule):
    id = "PSB1008"
    severity = Severity.LOW
    title = "Base image not pinned by digest"
    message = (
        "A tag can be moved to other content at any time (by the publisher or by whoever controls "
        "the registry): pin the base image by digest, `image:tag@sha256:<digest>`, and let a bot update it."
    )
    fix = "FROM debian:12.5-slim@sha256:<digest>"

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            ref = stage.ref
            if not stage.image or ref.is_scratch or ref.digest:
                continue
            if refers_to_earlier_stage(df, stage) or unresolved_image_name(stage):
                continue
            yield self.at(df, stage.from_, f"FROM {stage.image} is not pinned by digest: "
                                           f"use {stage.image}@sha256:<digest>.")  # fmt: skip
