"""PSB3052: a label-schema label of format `url` that is not a URL."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rules._labels import LabelFormatRule, is_url
from pysandbox.types import Severity


class LabelUrl(LabelFormatRule):
    id = "PSB3052"
    severity = Severity.MEDIUM
    title = "Label is not a valid URL"
    message = (
        "The label-schema config declares this label as `url`: "
        "make its value an absolute URL such as https://example.com/docs."
    )
    fix = 'LABEL org.opencontainers.image.url="https://example.com"'
    aliases = ("DL3052",)
    label_format = "url"
    format_hint = "an absolute URL such as https://example.com/docs"

    def valid(self, value: str) -> bool:
        return is_url(value)
