"""PSB3036: zypper install without `zypper clean` afterwards in the same RUN."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import cache_mounted, first_index, last_index, runs
from pysandbox.scanner.dockerfile.shell import Command, ShellScript
from pysandbox.types import Finding, Severity


def _install(cmd: Command) -> bool:
    return runs(cmd, {"zypper"}, {"install", "in"})


def _clean(cmd: Command) -> bool:
    return runs(cmd, {"zypper"}, {"clean", "cc"}) or (
        cmd.name == "rm" and any(a.startswith("/var/cache/zypp") for a in cmd.args)
    )


class ZypperClean(RunRule):
    id = "PSB3036"
    severity = Severity.MEDIUM
    title = "zypper clean missing after zypper install"
    message = "zypper leaves its package cache in the layer: end the same RUN with `zypper clean`."
    fix = "RUN zypper --non-interactive install curl=8.0.1 && zypper clean --all"
    aliases = ("DL3036", "DS-0020", "AVD-DS-0020")

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterator[Finding]:
        install = first_index(script, _install)
        if install is None or cache_mounted(inst, "/var/cache/zypp"):
            return
        clean = last_index(script, _clean)
        if clean is None or clean < install:
            yield self.at(df, inst)
