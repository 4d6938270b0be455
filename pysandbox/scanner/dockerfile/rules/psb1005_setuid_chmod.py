"""PSB1005: chmod setting the setuid bit."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._modes import instruction_modes, numeric_bits, symbolic_clauses
from pysandbox.types import Finding, Severity


def sets_setuid(mode: str) -> bool:
    """`4755`, `u+s`, `+s`, `a+s`. Setgid alone (`g+s`, `2775`) is left out: its common use is a
    shared directory whose files inherit the group, which grants nothing."""
    bits = numeric_bits(mode)
    if bits is not None:
        return bool(bits & 0o4000)
    return any(op in "+=" and "s" in perms and (not who or "u" in who or "a" in who)
               for who, op, perms in symbolic_clauses(mode))  # fmt: skip


class SetuidChmod(Rule):
    id = "PSB1005"
    severity = Severity.HIGH
    title = "setuid bit set"
    message = (
        "A setuid binary runs with its owner's privileges, a classic way to escalate to root "
        "inside the container: drop the bit, and grant a capability to the binary if it needs one."
    )
    fix = "RUN setcap cap_net_bind_service=+ep /usr/local/bin/server"

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for inst in df.of("RUN", "COPY", "ADD"):
            modes = [m for m in instruction_modes(df, inst) if sets_setuid(m)]
            if modes:
                yield self.at(
                    df,
                    inst,
                    f"Mode {modes[0]} sets the setuid bit: remove it (grant a capability instead if needed).",
                )
