"""PSB3064: ARG or ENV whose name says it holds a secret."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.scanner.dockerfile.rules._secrets import is_secret_name
from pysandbox.types import Finding, Severity


class SecretNames(InstructionRule):
    id = "PSB3064"
    severity = Severity.HIGH
    title = "Secret passed in ARG or ENV"
    message = (
        "ARG and ENV values stay in the image metadata and build history, readable with "
        "`docker history`/`docker inspect`: pass secrets with `RUN --mount=type=secret` instead."
    )
    fix = "RUN --mount=type=secret,id=db_password,env=DB_PASSWORD ./migrate"
    aliases = ("DL3064", "DS-0031", "AVD-DS-0031")
    instructions = ("ARG", "ENV")

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        names = [name for name, _ in inst.pairs() if is_secret_name(name)]
        if names:
            yield self.at(df, inst, f"{inst.kind} {', '.join(names)} looks like a secret: "
                                    "use `RUN --mount=type=secret` instead.")  # fmt: skip
