"""PSB1006: chmod making files or directories world-writable."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._modes import instruction_modes, numeric_bits, symbolic_clauses
from pysandbox.types import Finding, Severity


def world_writable(mode: str) -> bool:
    """`777`, `0666`, `o+w`, `a+rwx`; not `1777` or `o+wt` (sticky, like /tmp)."""
    bits = numeric_bits(mode)
    if bits is not None:
        return bool(bits & 0o002) and not bits & 0o1000
    clauses = list(symbolic_clauses(mode))
    if any("t" in perms and op in "+=" for _, op, perms in clauses):
        return False
    return any(op in "+=" and "w" in perms and ("o" in who or "a" in who) for who, op, perms in clauses)


def _sticky(mode: str) -> bool:
    bits = numeric_bits(mode)
    if bits is not None:
        return bool(bits & 0o1000)
    return any(op in "+=" and "t" in perms for _, op, perms in symbolic_clauses(mode))


class WorldWritable(Rule):
    id = "PSB1006"
    severity = Severity.MEDIUM
    title = "World-writable file or directory"
    message = (
        "World-writable paths let any user in the container replace what others run or read: "
        "give ownership to the user that needs to write (chown) and keep the mode 755/644."
    )
    fix = "RUN chown -R 10001:10001 /app/data && chmod -R 750 /app/data"

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for inst in df.of("RUN", "COPY", "ADD"):
            all_modes = instruction_modes(df, inst)
            modes = [m for m in all_modes if world_writable(m)]
            # `chmod a+rwx $TMP && chmod o+t $TMP`: the sticky bit makes it a /tmp-like directory
            if modes and not any(_sticky(m) for m in all_modes):
                yield self.at(df, inst, f"Mode {modes[0]} makes it world-writable: chown it to the user "
                                        "that writes and use 755/644.")  # fmt: skip
