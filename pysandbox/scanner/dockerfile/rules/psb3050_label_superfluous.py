"""PSB3050: with `strict-labels`, a LABEL sets a label the label-schema config does not list."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


class LabelSuperfluous(Rule):
    id = "PSB3050"
    severity = Severity.LOW
    title = "Label not in the label schema"
    message = (
        "strict-labels is on and this label is not in label-schema: remove it, or add it to the "
        "label-schema of the config."
    )
    aliases = ("DL3050",)

    def __init__(self) -> None:
        self.strict = False
        self.allowed: set[str] = set()

    def configure(self, config: LintConfig) -> None:
        self.strict = config.strict_labels
        self.allowed = set(config.label_schema)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        if not self.strict:
            return
        for inst in df.instructions:
            if inst.cmd != "LABEL":
                continue
            extra = [key for key, _ in inst.pairs() if key not in self.allowed]
            if extra:
                yield self.at(df, inst, f"Label(s) {', '.join(extra)} not in label-schema (strict-labels): "
                                        "remove them or add them to the schema.")  # fmt: skip
