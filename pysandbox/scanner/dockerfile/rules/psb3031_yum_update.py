"""PSB3031: yum update/upgrade in RUN."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import runs
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


class YumUpdate(RunRule):
    id = "PSB3031"
    severity = Severity.HIGH
    title = "yum update in RUN"
    message = (
        "`yum update` upgrades every package to whatever is current at build time, so two builds of "
        "the same Dockerfile differ: update the base image instead, or install pinned versions."
    )
    fix = "FROM rockylinux:9.3  # a newer base image instead of yum update"
    aliases = ("DL3031",)

    def check_command(self, cmd: Command) -> str | bool:
        return runs(cmd, {"yum"}, {"update", "update-to", "upgrade", "upgrade-to"})
