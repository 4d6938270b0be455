"""PSB3066: USER given by name instead of numeric UID."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import unquote
from pysandbox.types import Finding, Severity, is_decimal

_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


class UserNotNumeric(Rule):
    id = "PSB3066"
    severity = Severity.LOW
    title = "USER is not a numeric UID"
    message = (
        "A user name is resolved inside the image, so the host, Kubernetes `runAsNonRoot` and "
        "policy checks cannot tell which UID runs: use a numeric UID (and GID)."
    )
    fix = "USER 10001:10001"
    aliases = ("DL3066",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        build_args: set[str] = set()
        for inst in df.instructions:
            if inst.cmd == "ARG":
                build_args.update(name for name, _ in inst.pairs())
            elif inst.cmd == "USER":
                yield from self._check_user(df, inst, build_args)

    def _check_user(self, df: Dockerfile, inst: Instruction, build_args: set[str]) -> Iterator[Finding]:
        raw = unquote(inst.text.strip()).split(":", 1)[0]
        names = _VARIABLE.findall(raw)
        if any(n in build_args for n in names):  # `--build-arg` can give the numeric UID
            return
        user = inst.word(raw)
        if not user or is_decimal(user):
            return
        if "$" in user:
            yield self.at(df, inst, f"USER {raw}: its value is not known at build time; use a numeric UID.")
        else:
            yield self.at(df, inst, f"USER {user}: use the numeric UID of this user instead.")
