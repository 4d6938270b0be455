"""PSB3060: yarn install without `yarn cache clean` in the same RUN."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import runs
from pysandbox.scanner.dockerfile.shell import ShellScript
from pysandbox.types import Finding, Severity


class YarnCacheClean(RunRule):
    id = "PSB3060"
    severity = Severity.LOW
    title = "yarn cache clean missing after yarn install"
    message = (
        "yarn keeps its package cache in the layer: end the same RUN with `yarn cache clean`, "
        "or use a cache mount for the yarn cache."
    )
    fix = "RUN yarn install --frozen-lockfile && yarn cache clean"
    aliases = ("DL3060",)

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterator[Finding]:
        if not any(runs(c, {"yarn"}, {"install"}) for c in script):
            return
        if any(runs(c, {"yarn"}, {"cache"}) and "clean" in c.args for c in script):
            return
        if any(
            "yarn" in m.get("target", m.get("dst", "")) for m in inst.mounts() if m.get("type") == "cache"
        ):
            return
        yield self.at(df, inst)
