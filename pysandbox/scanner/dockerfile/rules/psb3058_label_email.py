"""PSB3058: a label-schema label of format `email` that is not an email address."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rules._labels import LabelFormatRule, is_email
from pysandbox.types import Severity


class LabelEmail(LabelFormatRule):
    id = "PSB3058"
    severity = Severity.MEDIUM
    title = "Label is not an email address"
    message = (
        "The label-schema config declares this label as `email`: "
        "make its value an RFC 5322 address such as dev@example.com."
    )
    fix = 'LABEL maintainer="dev@example.com"'
    aliases = ("DL3058",)
    label_format = "email"
    format_hint = "an RFC 5322 address such as dev@example.com"

    def valid(self, value: str) -> bool:
        return is_email(value)
