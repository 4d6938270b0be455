"""PSB3055: a label-schema label of format `hash` that is not a git commit hash."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rules._labels import LabelFormatRule, is_git_hash
from pysandbox.types import Severity


class LabelGitHash(LabelFormatRule):
    id = "PSB3055"
    severity = Severity.MEDIUM
    title = "Label is not a git commit hash"
    message = (
        "The label-schema config declares this label as `hash`: "
        "make its value a git commit id: 40 or 7 lower-case hex digits."
    )
    fix = 'LABEL org.opencontainers.image.revision="$GIT_COMMIT"'
    aliases = ("DL3055",)
    label_format = "hash"
    format_hint = "a git commit id: 40 or 7 lower-case hex digits"

    def valid(self, value: str) -> bool:
        return is_git_hash(value)
