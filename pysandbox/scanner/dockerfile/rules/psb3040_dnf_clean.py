"""PSB3040: dnf/microdnf install without `dnf clean all` afterwards in the same RUN."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import cache_mounted, first_index, last_index, runs
from pysandbox.scanner.dockerfile.shell import Command, ShellScript
from pysandbox.types import Finding, Severity

_CACHES = ("/var/cache/yum", "/var/cache/dnf")


def _cleans_cache(cmd: Command) -> bool:
    return cmd.name == "rm" and any(a.startswith(_CACHES) for a in cmd.args)


def _installs(name: str, cmd: Command) -> bool:
    return runs(cmd, {name}, {"install", "reinstall"})


def _cleans(name: str, cmd: Command) -> bool:
    return (runs(cmd, {name}, {"clean"}) and "all" in cmd.args) or _cleans_cache(cmd)


class DnfClean(RunRule):
    id = "PSB3040"
    severity = Severity.MEDIUM
    title = "dnf clean all missing after dnf install"
    message = (
        "dnf leaves its package cache in the layer: end the same RUN with `dnf clean all` "
        "(`microdnf clean all`, `tdnf clean all`), or use a cache mount for /var/cache/dnf."
    )
    fix = "RUN dnf install -y httpd-2.4.57 && dnf clean all"
    aliases = ("DL3040", "DS-0019", "AVD-DS-0019", "DS-0027", "AVD-DS-0027")

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterator[Finding]:
        if cache_mounted(inst, *_CACHES):
            return
        for name in ("dnf", "microdnf", "tdnf"):
            install = first_index(script, partial(_installs, name))
            if install is None:
                continue
            clean = last_index(script, partial(_cleans, name))
            if clean is None or clean < install:
                yield self.at(df, inst, f"{name} leaves its package cache in the layer: "
                                        f"end the same RUN with `{name} clean all`.")  # fmt: skip
                return
