"""PSB3019: apk add without --no-cache."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import ShellScript
from pysandbox.types import Finding, Severity


class ApkNoCache(RunRule):
    id = "PSB3019"
    severity = Severity.LOW
    title = "apk add without --no-cache"
    message = (
        "The apk index stays in the layer: use `apk add --no-cache` instead of `apk update` "
        "and removing /var/cache/apk/*."
    )
    fix = "apk add --no-cache <package>=<version>"
    aliases = ("DL3019", "DS-0025", "AVD-DS-0025")

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterator[Finding]:
        if any(
            m.get("type") == "cache" and m.get("target", "").startswith("/var/cache/apk")
            for m in inst.mounts()
        ):
            return
        for cmd in script:
            if cmd.name == "apk" and cmd.has_arg("add") and not cmd.has_flag("no-cache"):
                yield self.at(df, inst)
                return
