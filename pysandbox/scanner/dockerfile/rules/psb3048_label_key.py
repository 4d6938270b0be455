"""PSB3048: invalid LABEL key."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.types import Finding, Severity

_VALID = re.compile(r"^[a-z]([a-z0-9._-]*[a-z0-9])?$")  # `_` tolerated, as hadolint does
_RESERVED = ("com.docker.", "io.docker.", "org.dockerproject.")


def valid_label_key(key: str) -> bool:
    """Docker's label key format: lower-case reverse-DNS, no reserved namespace, no `..`/`--`."""
    return bool(_VALID.match(key)) and not key.startswith(_RESERVED) and ".." not in key and "--" not in key


class LabelKey(InstructionRule):
    id = "PSB3048"
    severity = Severity.LOW
    title = "Invalid LABEL key"
    message = (
        "Label keys should be lower-case reverse-DNS names (letters, digits, `.`, `-`, `_`) outside the "
        "reserved com.docker.*, io.docker.* and org.dockerproject.* namespaces."
    )
    fix = 'LABEL org.opencontainers.image.source="https://github.com/org/repo"'
    aliases = ("DL3048",)
    instructions = ("LABEL",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        bad = [key for key, _ in inst.pairs() if not valid_label_key(key)]
        if bad:
            yield self.at(df, inst, f"Invalid label key {', '.join(bad)}: use lower-case reverse-DNS keys.")
