"""PSB3060: yarn install without `yarn cache clean` in the same RUN."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import shipped_stages
from pysandbox.scanner.dockerfile.rules._pkgmgr import runs
from pysandbox.types import Finding, Severity


class YarnCacheClean(Rule):
    id = "PSB3060"
    severity = Severity.LOW
    title = "yarn cache clean missing after yarn install"
    message = (
        "yarn keeps its package cache in the layer: end the same RUN with `yarn cache clean`, "
        "or use a cache mount for the yarn cache."
    )
    fix = "RUN yarn install --frozen-lockfile && yarn cache clean"
    aliases = ("DL3060",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in shipped_stages(df):  # a build stage's cache never reaches the image
            for inst in stage.of("RUN"):
                if self._leaves_cache(inst):
                    yield self.at(df, inst)

    @staticmethod
    def _leaves_cache(inst: Instruction) -> bool:
        script = inst.shell
        if script is None or not any(runs(c, {"yarn"}, {"install"}) for c in script):
            return False
        if any(runs(c, {"yarn"}, {"cache"}) and "clean" in c.args for c in script):
            return False
        return not any(
            "yarn" in m.get("target", m.get("dst", "")) for m in inst.mounts() if m.get("type") == "cache"
        )
