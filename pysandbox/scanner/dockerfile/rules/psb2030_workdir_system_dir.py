"""PSB2030: WORKDIR in a system directory (/proc, /dev, /boot, ...)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.types import Finding, Severity

SYSTEM_DIRS = ("/proc", "/sys", "/boot", "/dev", "/initrd", "/lost+found")


class WorkdirSystemDir(InstructionRule):
    id = "PSB2030"
    severity = Severity.HIGH
    title = "WORKDIR in a system directory"
    message = (
        "/proc, /sys, /dev and /boot are kernel or host interfaces at run time; a working directory "
        "there writes into them: use an application directory such as /app."
    )
    fix = "WORKDIR /app"
    aliases = ("DS-0030", "AVD-DS-0030")
    instructions = ("WORKDIR",)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        path = inst.word(inst.text.strip()).rstrip("/") or "/"
        if any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS):
            yield self.at(df, inst, f"WORKDIR {path} is a system directory: use /app or similar.")
