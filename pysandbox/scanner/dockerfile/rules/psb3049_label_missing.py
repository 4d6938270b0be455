"""PSB3049: a stage lacks a label that the label-schema config requires."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.model import Dockerfile, Stage
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


def _copied_from(df: Dockerfile) -> set[str]:
    """Stage names/indexes that some `COPY --from` reads: build stages, not images of their own."""
    return {src.lower() for inst in df.of("COPY") if (src := inst.flag("from"))}


class LabelMissing(Rule):
    id = "PSB3049"
    severity = Severity.LOW
    title = "Required label missing"
    message = (
        "The label-schema config requires this label on every image: set it with LABEL in the stage "
        "(or in the stage it is built FROM)."
    )
    fix = 'LABEL org.opencontainers.image.source="https://github.com/org/repo"'
    aliases = ("DL3049",)

    def __init__(self) -> None:
        self.required: list[str] = []

    def configure(self, config: LintConfig) -> None:
        self.required = list(config.label_schema)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        if not self.required:
            return
        copied = _copied_from(df)
        for label in self.required:
            has: dict[int, bool] = {}
            for stage in df.stages:
                has[stage.index] = _sets(stage, label) or (
                    stage.parent is not None and has[stage.parent.index]
                )
                if not has[stage.index] and not _is_copied(stage, copied):
                    yield self.at(df, stage.from_, f"Label `{label}` is missing: add `LABEL {label}=...`.")


def _sets(stage: Stage, label: str) -> bool:
    return any(key == label for inst in stage.instructions if inst.cmd == "LABEL" for key, _ in inst.pairs())


def _is_copied(stage: Stage, copied: set[str]) -> bool:
    return str(stage.index) in copied or (stage.name is not None and stage.name in copied)
