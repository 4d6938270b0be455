"""PSB3011: EXPOSE of a port outside 0-65535."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.types import Finding, Severity, is_decimal


def exposed_ports(inst: Instruction) -> Iterator[tuple[str, int | None]]:
    """(as written, port number or None when not a number) for each port of a range/list."""
    for raw in inst.words():
        spec = raw.split("/", 1)[0]
        for part in spec.split("-", 1):
            part = part.split(":")[-1]
            yield raw, int(part) if is_decimal(part) else None


class PortRange(InstructionRule):
    id = "PSB3011"
    severity = Severity.HIGH
    title = "Exposed port out of range"
    message = "Valid ports are 0 to 65535: fix the EXPOSE instruction."
    aliases = ("DL3011", "DS-0008", "AVD-DS-0008")
    instructions = ("EXPOSE",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        for raw, port in exposed_ports(inst):
            if port is not None and port > 65535:
                yield self.at(df, inst, f"EXPOSE {raw}: {port} is not a valid port (0-65535).")
                return
