"""PSB2004: port 22 (ssh) exposed."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.types import Finding, Severity, is_decimal


def exposes_22(port: str) -> bool:
    number, _, _ = port.partition("/")
    low, dash, high = number.partition("-")
    if not is_decimal(low) or (dash and not is_decimal(high)):
        return False
    return int(low) <= 22 <= int(high) if dash else int(low) == 22


class SshPort(InstructionRule):
    id = "PSB2004"
    severity = Severity.MEDIUM
    title = "Port 22 exposed"
    message = (
        "Exposing 22 means an ssh server runs in the container: more attack surface and keys to "
        "manage. Use `docker exec` / `kubectl exec` for access instead."
    )
    aliases = ("DS-0004", "AVD-DS-0004", "CKV_DOCKER_1")
    instructions = ("EXPOSE",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        if inst.cmd == "EXPOSE" and any(exposes_22(p) for w in inst.words() for p in w.split()):
            yield self.at(df, inst)
