"""Label-schema rules (hadolint's `label-schema` / `strict-labels` config): format checks and a base class.

Not a rule module (the underscore keeps it out of discovery). The checks accept what hadolint 2.15
accepts, so that a `.hadolint.yaml` with a label-schema gives the same findings with both tools.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import ClassVar

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding

# RFC 3986 absolute URI: a scheme, then only URI characters, `%` only as `%XX`
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$"
)
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]*)?(?:\+[0-9A-Za-z.-]*)?$")
_GIT_HASH = re.compile(r"^(?:[0-9a-f]{7}|[0-9a-f]{40})$")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(
    rf'^(?:{_ATEXT}+(?:\.{_ATEXT}+)*|"(?:[^"\\]|\\.)*")@(?:{_LABEL}(?:\.{_LABEL})*|\[[^\[\]\\]*\])$'
)


def is_url(value: str) -> bool:
    return bool(_URI.match(value))


def is_rfc3339(value: str) -> bool:
    """`2024-05-01T12:00:00Z`, `...T12:00:00.5+02:00`; a date alone is not a timestamp."""
    m = _RFC3339.match(value)
    if m is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    offset_ok = m.group(7) is None or (int(m.group(7)) < 24 and int(m.group(8)) < 60)
    return hour < 24 and minute < 60 and second <= 60 and offset_ok  # 60: a leap second


def is_semver(value: str) -> bool:
    return bool(_SEMVER.match(value))


def is_git_hash(value: str) -> bool:
    """A full (40) or short (7) lower-case hex commit id."""
    return bool(_GIT_HASH.match(value))


def is_email(value: str) -> bool:
    """An RFC 5322 addr-spec (`dev@example.com`), not a display form like `Dev <dev@example.com>`."""
    return bool(_EMAIL.match(value))


def is_spdx(value: str) -> bool:
    """One SPDX license id, spelled as the SPDX list does (`Apache-2.0`); not an expression."""
    from cyclonedx.spdx import is_supported_id

    return bool(is_supported_id(value))


def label_pairs(df: Dockerfile) -> Iterator[tuple[Instruction, str, str]]:
    """(LABEL instruction, key, value) for every label set in the file (ONBUILD LABEL excluded)."""
    for inst in df.instructions:
        if inst.cmd == "LABEL":
            for key, value in inst.pairs():
                yield inst, key, value or ""


class LabelFormatRule(Rule):
    """A label whose schema format is `label_format` must hold a value that `valid` accepts."""

    label_format: ClassVar[str] = ""
    format_hint: ClassVar[str] = ""  # e.g. "an absolute URL such as https://example.com/docs"

    def __init__(self) -> None:
        self.labels: set[str] = set()

    def configure(self, config: LintConfig) -> None:
        self.labels = {label for label, fmt in config.label_schema.items() if fmt == self.label_format}

    def valid(self, value: str) -> bool:
        raise NotImplementedError

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        if not self.labels:
            return
        for inst, key, value in label_pairs(df):
            if key in self.labels and value and not self.valid(value):  # empty: PSB3051
                yield self.at(df, inst, f"Label `{key}` is {value!r}: make it {self.format_hint}.")
