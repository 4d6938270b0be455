"""PSB3009: apt-get update without removing /var/lib/apt/lists in the same RUN."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import shipped_stages
from pysandbox.scanner.dockerfile.shell import ShellScript
from pysandbox.types import Finding, Severity


def _cache_mounted(inst: Instruction, *dirs: str) -> bool:
    targets = [
        m.get("target", m.get("dst", m.get("destination", "")))
        for m in inst.mounts()
        if m.get("type") == "cache"
    ]
    return all(any(t.startswith(d) for t in targets) for d in dirs)


def _cleans_lists(script: ShellScript) -> bool:
    if any(c.name == "apt-get" and c.has_arg("dist-clean") for c in script):  # apt >= 2.7 removes the lists
        return True
    return any(any(a.startswith("/var/lib/apt/lists") for a in c.args) for c in script.find("rm"))


class AptListsNotRemoved(Rule):
    id = "PSB3009"
    severity = Severity.LOW
    title = "apt lists not deleted after apt-get update"
    message = (
        "The package lists from apt-get update stay in the layer (tens of MB) and go stale: "
        "end the same RUN with `rm -rf /var/lib/apt/lists/*`, or use a cache mount for /var/lib/apt/lists."
    )
    fix = "RUN apt-get update && apt-get install -y foo=1.* && rm -rf /var/lib/apt/lists/*"
    aliases = ("DL3009",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in shipped_stages(df):
            for inst in stage.of("RUN"):
                script = inst.shell
                if script is None or not any(
                    c.name in ("apt-get", "apt") and c.has_arg("update") for c in script
                ):
                    continue
                if _cleans_lists(script) or _cache_mounted(inst, "/var/lib/apt/lists"):
                    continue
                if _cache_mounted(inst, "/var/lib/apt", "/var/cache/apt"):
                    continue
                yield self.at(df, inst)
