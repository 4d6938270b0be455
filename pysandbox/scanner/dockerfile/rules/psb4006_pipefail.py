"""PSB4006: RUN with a pipe while the shell does not use pipefail."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import NON_POSIX_SHELLS, program, runs_non_posix
from pysandbox.types import Finding, Severity

_PIPEFAIL_SHELLS = frozenset({"bash", "zsh", "ash", "ksh", "mksh"})


def shell_sets_pipefail(inst: Instruction) -> bool:
    """SHELL ["/bin/bash", "-o", "pipefail", "-c"] (or -eo pipefail), or a non-POSIX shell."""
    args = list(inst.args)
    if not args:
        return False
    name = program(args[0])
    if name.startswith(NON_POSIX_SHELLS):
        return True
    return name in _PIPEFAIL_SHELLS and _option_pipefail(args)


def has_pipe(inst: Instruction) -> bool:
    """An unprotected pipeline in the RUN (`{ ...; } | cmd`, `$(a | b)` and `sh -c "a | b"` included)."""
    script = inst.shell
    if script is None or not script.pipelines():
        return False
    # `set -o pipefail` in the RUN itself counts, as for trivy (a shell without pipefail fails loudly)
    return not any(c.name == "set" and _option_pipefail(list(c.args)) for c in script)


def _option_pipefail(args: list[str]) -> bool:
    return any(a.startswith("-") and not a.startswith("--") and "o" in a and nxt == "pipefail"
               for a, nxt in pairwise(args))  # fmt: skip


class Pipefail(Rule):
    id = "PSB4006"
    severity = Severity.MEDIUM
    title = "Pipe in RUN without pipefail"
    message = (
        "The shell's exit status is the last command's, so `curl ... | tar x` succeeds when curl "
        'fails: set `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` (`/bin/ash` on Alpine) before this RUN.'
    )
    fix = 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]'
    aliases = ("DL4006", "DS-0032", "AVD-DS-0032")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            pipefail = False
            for inst in stage.instructions:
                if inst.cmd == "SHELL":
                    pipefail = shell_sets_pipefail(inst)
                elif inst.cmd == "RUN" and not pipefail and has_pipe(inst) and not runs_non_posix(df, inst):
                    yield self.at(df, inst)
