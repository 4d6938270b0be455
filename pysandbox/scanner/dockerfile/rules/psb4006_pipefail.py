"""PSB4006: RUN with a pipe while the shell does not use pipefail."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity

_NON_POSIX = ("pwsh", "powershell", "cmd")
_PIPEFAIL_SHELLS = frozenset({"bash", "zsh", "ash", "ksh", "mksh"})


def shell_sets_pipefail(inst: Instruction) -> bool:
    """SHELL ["/bin/bash", "-o", "pipefail", "-c"] (or -eo pipefail), or a non-POSIX shell."""
    args = list(inst.args)
    if not args:
        return False
    program = args[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
    if program.startswith(_NON_POSIX):
        return True
    if program not in _PIPEFAIL_SHELLS:
        return False
    return any(a.startswith("-") and not a.startswith("--") and "o" in a and nxt == "pipefail"
               for a, nxt in pairwise(args))  # fmt: skip


_CASE_PATTERN_BAR = re.compile(r"\|(?=[^\s;&|()]*\))")  # the `|` of a case pattern `a|b)`


def has_pipe(inst: Instruction) -> bool:
    """A pipeline anywhere in the RUN, including `{ ...; } | cmd` and `(...) | cmd` groups."""
    script = inst.shell
    if script is None or "|" not in script.text:
        return False
    first = script.commands[0].name.lower() if script.commands else ""
    if first.startswith(_NON_POSIX):  # `RUN powershell -Command ... | ...`: not a POSIX pipe
        return False
    if script.pipelines():
        return True
    try:
        import bashlex

        trees = bashlex.parse(script.text)
    except Exception:  # bashlex raises many types; fall back to a token scan
        return _pipe_token(script.text)
    return any(_has_pipeline(tree) for tree in trees)


def _has_pipeline(node: Any) -> bool:
    if getattr(node, "kind", None) == "pipeline" and sum(p.kind != "pipe" for p in node.parts) > 1:
        return True
    for value in vars(node).values():
        children = value if isinstance(value, list) else [value]
        if any(hasattr(c, "kind") and _has_pipeline(c) for c in children):
            return True
    return False


def _pipe_token(text: str) -> bool:
    lexer = shlex.shlex(_CASE_PATTERN_BAR.sub(" ", text), posix=True, punctuation_chars="|&;()<>")
    lexer.whitespace_split = True
    try:
        return any(tok in ("|", "|&") for tok in lexer)
    except ValueError:  # unbalanced quotes
        return False


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
                elif inst.cmd == "RUN" and not pipefail and has_pipe(inst):
                    yield self.at(df, inst)
