"""PSB3025: CMD/ENTRYPOINT in shell form."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import InstructionRule
from pysandbox.types import Finding, Severity


class JsonCmd(InstructionRule):
    id = "PSB3025"
    severity = Severity.MEDIUM
    title = "CMD/ENTRYPOINT in shell form"
    message = (
        "In shell form the program runs under /bin/sh -c, does not get SIGTERM and cannot exit cleanly: "
        'use the JSON form, e.g. CMD ["nginx", "-g", "daemon off;"].'
    )
    aliases = ("DL3025",)
    instructions = ("CMD", "ENTRYPOINT", "HEALTHCHECK")

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterator[Finding]:
        if inst.kind == "HEALTHCHECK":
            # HEALTHCHECK's args are ("CMD", "command") in shell form; its JSON form sets inst.json
            if inst.json or not inst.args or inst.args[0].upper() != "CMD" or len(inst.args) < 2:
                return
            command = " ".join(inst.args[1:])
            yield self.at(df, inst, f"HEALTHCHECK CMD {command[:60]}: use the JSON form, "
                          'e.g. HEALTHCHECK CMD ["curl", "-f", "http://localhost/"].')  # fmt: skip
            return
        if not inst.json and inst.text.strip():
            yield self.at(df, inst, f"{inst.kind} {inst.text.strip()[:60]}: use the JSON (exec) form.")
