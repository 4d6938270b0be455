"""PSB3053: a label-schema label of format `rfc3339` that is not an RFC 3339 timestamp."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rules._labels import LabelFormatRule, is_rfc3339
from pysandbox.types import Severity


class LabelRfc3339(LabelFormatRule):
    id = "PSB3053"
    severity = Severity.MEDIUM
    title = "Label is not an RFC 3339 timestamp"
    message = (
        "The label-schema config declares this label as `rfc3339`: "
        "make its value an RFC 3339 timestamp such as 2024-05-01T12:00:00Z."
    )
    fix = 'LABEL org.opencontainers.image.created="2024-05-01T12:00:00Z"'
    aliases = ("DL3053",)
    label_format = "rfc3339"
    format_hint = "an RFC 3339 timestamp such as 2024-05-01T12:00:00Z"

    def valid(self, value: str) -> bool:
        return is_rfc3339(value)
