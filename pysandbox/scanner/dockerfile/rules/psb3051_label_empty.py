"""PSB3051: a label the label-schema config lists is set to an empty value."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._labels import label_pairs
from pysandbox.types import Finding, Severity


class LabelEmpty(Rule):
    id = "PSB3051"
    severity = Severity.MEDIUM
    title = "Schema label is empty"
    message = "A label the label-schema config lists is empty: give it a value (often a build arg)."
    fix = 'ARG VERSION\nLABEL org.opencontainers.image.version="$VERSION"'
    aliases = ("DL3051",)

    def __init__(self) -> None:
        self.labels: set[str] = set()

    def configure(self, config: LintConfig) -> None:
        self.labels = set(config.label_schema)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for inst, key, value in label_pairs(df) if self.labels else ():
            if key in self.labels and not value:
                yield self.at(df, inst, f"Label `{key}` is empty: give it a value.")
