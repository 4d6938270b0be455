"""PSB3007: FROM image:latest."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


class LatestTag(Rule):
    id = "PSB3007"
    severity = Severity.MEDIUM
    title = "Base image uses the latest tag"
    message = (
        ":latest changes whenever the image is updated, so builds are not reproducible: pin a version tag."
    )
    fix = "FROM node:20.11-alpine@sha256:<digest>"
    aliases = ("DL3007", "DS-0001", "AVD-DS-0001", "CKV_DOCKER_7")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            ref = stage.ref
            if ref.tag == "latest" and not ref.digest:
                yield self.at(df, stage.from_, f"FROM {stage.image} uses :latest: pin a version tag instead.")
