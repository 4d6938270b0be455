"""PSB3056: a label-schema label of format `semver` that is not a semantic version."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rules._labels import LabelFormatRule, is_semver
from pysandbox.types import Severity


class LabelSemver(LabelFormatRule):
    id = "PSB3056"
    severity = Severity.MEDIUM
    title = "Label is not a semantic version"
    message = (
        "The label-schema config declares this label as `semver`: "
        "make its value a semantic version such as 1.4.2 or 2.0.0-rc.1."
    )
    fix = 'LABEL org.opencontainers.image.version="1.4.2"'
    aliases = ("DL3056",)
    label_format = "semver"
    format_hint = "a semantic version such as 1.4.2 or 2.0.0-rc.1"

    def valid(self, value: str) -> bool:
        return is_semver(value)
