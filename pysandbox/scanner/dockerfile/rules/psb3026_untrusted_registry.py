"""PSB3026: base image from a registry that is not trusted (config `trustedRegistries`)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._images import refers_to_earlier_stage
from pysandbox.types import Finding, Severity

_DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io", "hub.docker.com")


class UntrustedRegistry(Rule):
    id = "PSB3026"
    severity = Severity.HIGH
    title = "Base image from an untrusted registry"
    message = "Base images must come from a trusted registry (trustedRegistries): mirror the image there."
    aliases = ("DL3026",)

    def __init__(self) -> None:
        self.trusted: list[str] = []

    def configure(self, config: LintConfig) -> None:
        self.trusted = [t.lower() for t in config.trusted_registries]

    def _trusted(self, registry: str) -> bool:
        names = _DOCKER_HUB if registry in _DOCKER_HUB else (registry,)
        return any(fnmatch.fnmatchcase(n, pattern) for n in names for pattern in self.trusted)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        if not self.trusted:
            return
        for stage in df.stages:
            ref = stage.ref
            if not stage.image or ref.is_scratch or refers_to_earlier_stage(df, stage) or "$" in stage.image:
                continue
            registry = (ref.registry or "docker.io").lower()
            if not self._trusted(registry):
                allowed = ", ".join(self.trusted)
                yield self.at(
                    df, stage.from_, f"FROM {stage.image}: registry {registry} is not one of {allowed}."
                )
