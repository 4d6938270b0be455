"""PSB3054: a label-schema label of format `spdx` that is not an SPDX license id."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rules._labels import LabelFormatRule, is_spdx
from pysandbox.types import Severity


class LabelSpdx(LabelFormatRule):
    id = "PSB3054"
    severity = Severity.MEDIUM
    title = "Label is not an SPDX license id"
    message = (
        "The label-schema config declares this label as `spdx`: "
        "make its value one SPDX license id such as Apache-2.0 or MIT (exact spelling)."
    )
    fix = 'LABEL org.opencontainers.image.licenses="Apache-2.0"'
    aliases = ("DL3054",)
    label_format = "spdx"
    format_hint = "one SPDX license id such as Apache-2.0 or MIT (exact spelling)"

    def valid(self, value: str) -> bool:
        return is_spdx(value)
