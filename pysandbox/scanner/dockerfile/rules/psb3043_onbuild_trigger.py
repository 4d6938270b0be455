"""PSB3043: ONBUILD triggering ONBUILD, FROM or MAINTAINER."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


class OnbuildTrigger(Rule):
    id = "PSB3043"
    severity = Severity.HIGH
    title = "ONBUILD with ONBUILD, FROM or MAINTAINER"
    message = (
        "Docker refuses ONBUILD ONBUILD, ONBUILD FROM and ONBUILD MAINTAINER when the child image is "
        "built: remove the trigger (use LABEL maintainer=... instead of MAINTAINER)."
    )
    aliases = ("DL3043",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for inst in df.instructions:
            if inst.cmd == "ONBUILD" and inst.sub_cmd in ("ONBUILD", "FROM", "MAINTAINER"):
                yield self.at(df, inst, f"ONBUILD {inst.sub_cmd} is not allowed: remove this trigger.")
