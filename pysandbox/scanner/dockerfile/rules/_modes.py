"""chmod mode parsing shared by the setuid and world-writable rules (not a rule module)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.shell import Command

_NUMERIC = re.compile(r"^[0-7]{3,4}$")
_SYMBOLIC = re.compile(r"^[ugoa]*[-+=][rwxXst]*$")


def chmod_modes(cmd: Command) -> list[str]:
    """Modes given to `chmod MODE files` or `install -m MODE`."""
    if cmd.name == "chmod":
        words = [a for a in cmd.args if not (a.startswith("-") and not _SYMBOLIC.match(a.split(",")[0]))]
        return words[:1]
    if cmd.name == "install":
        mode = cmd.flag_value("m", "mode")
        return [mode] if mode else []
    return []


def numeric_bits(mode: str) -> int | None:
    return int(mode, 8) if _NUMERIC.match(mode) else None


def symbolic_clauses(mode: str) -> Iterator[tuple[str, str, str]]:
    """`u+s,g-w` -> (who, op, perms) for each clause (`who` empty means all, minus umask)."""
    for clause in mode.split(","):
        match = re.match(r"^([ugoa]*)([-+=])([rwxXst]*)$", clause)
        if match:
            yield match.group(1), match.group(2), match.group(3)


def instruction_modes(df: Dockerfile, inst: Instruction) -> list[str]:
    """Modes an instruction sets: chmod/install in RUN, `COPY/ADD --chmod=`."""
    if inst.kind in ("COPY", "ADD"):
        mode = inst.flag("chmod")
        return [mode] if mode else []
    script = inst.shell if inst.kind == "RUN" else None
    if script is None:
        return []
    return [m for cmd in script for m in chmod_modes(cmd)]
