"""PSB3059: consecutive RUN instructions that could be one."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import NON_POSIX_SHELLS, program
from pysandbox.types import Finding, Severity

# a RUN of several commands was probably split on purpose; only single-command RUNs are
# reported, as hadolint 2.15 does (`[ -f x ]` tests do not count as commands)
_SMALL = 1
_TESTS = frozenset({"[", "[[", "test"})


def _command_count(inst: Instruction) -> int:
    script = inst.shell
    if script is None:
        return 0
    if script.commands and program(script.commands[0].words[0]).startswith(NON_POSIX_SHELLS):
        return 1  # `RUN powershell ...`: one program run; its argument is a script, not sh commands
    return sum(1 for c in script.commands if c.wrapper is None and c.name not in _TESTS)


class ConsecutiveRuns(Rule):
    id = "PSB3059"
    severity = Severity.LOW
    title = "Consecutive RUN instructions"
    message = (
        "Each RUN makes a layer: join short consecutive RUNs with `&&` (or use a heredoc) "
        "unless the split is for caching."
    )
    fix = "RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.*"
    aliases = ("DL3059",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        previous: tuple[tuple[str, ...], int] | None = None
        for inst in df.instructions:
            if inst.cmd != "RUN":
                previous = None
                continue
            count = _command_count(inst)
            if (
                previous is not None
                and previous[0] == inst.flags
                and count <= _SMALL
                and previous[1] <= _SMALL
            ):
                yield self.at(df, inst)
            previous = (inst.flags, count)
