"""PSB3032: yum install without `yum clean all` in the same RUN."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import cache_mounted, removes_path, runs
from pysandbox.scanner.dockerfile.shell import ShellScript
from pysandbox.types import Finding, Severity


class YumClean(RunRule):
    id = "PSB3032"
    severity = Severity.MEDIUM
    title = "yum clean all missing after yum install"
    message = (
        "yum leaves its package cache in the layer: end the same RUN with `yum clean all` "
        "(or use a cache mount for /var/cache/yum)."
    )
    fix = "RUN yum install -y httpd-2.4.6 && yum clean all"
    aliases = ("DL3032", "DS-0015", "AVD-DS-0015")

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterator[Finding]:
        if not any(runs(c, {"yum"}, {"install"}) for c in script):
            return
        if any(runs(c, {"yum"}, {"clean"}) for c in script) or removes_path(script, "/var/cache/yum"):
            return
        if cache_mounted(inst, "/var/cache/yum"):
            return
        yield self.at(df, inst)
