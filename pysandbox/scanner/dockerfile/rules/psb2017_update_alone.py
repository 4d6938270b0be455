"""PSB2017: package index update without an install in the same RUN."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import runs
from pysandbox.scanner.dockerfile.shell import Command, ShellScript
from pysandbox.types import Finding, Severity

_MANAGERS = (frozenset({"apt-get", "apt"}), frozenset({"yum"}), frozenset({"apk"}), frozenset({"dnf"}),
             frozenset({"zypper"}))  # fmt: skip
_UPDATE = frozenset({"update", "up", "refresh", "ref"})
_INSTALL = frozenset({"upgrade", "install", "source-install", "reinstall", "groupinstall", "localinstall",
                      "add", "in", "dist-upgrade", "full-upgrade"})  # fmt: skip


def _installs(cmd: Command, names: frozenset[str]) -> bool:
    if runs(cmd, names, _INSTALL):
        return True
    # `... | xargs apt-get install -y`: the package manager is an argument of xargs
    return cmd.name == "xargs" and any(a in names for a in cmd.args) and any(a in _INSTALL for a in cmd.args)


class UpdateAlone(RunRule):
    id = "PSB2017"
    severity = Severity.MEDIUM
    title = "Package index update without install"
    message = (
        "A RUN that only updates the package index is cached on its own, so later installs use a "
        "stale index: update and install in the same RUN."
    )
    fix = "RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.*"
    aliases = ("DS-0017", "AVD-DS-0017", "CKV_DOCKER_5")

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterator[Finding]:
        commands = script.commands
        for names in _MANAGERS:
            updates = [i for i, c in enumerate(commands) if runs(c, names, _UPDATE)]
            if not updates:
                continue
            if not any(i > updates[0] and _installs(c, names) for i, c in enumerate(commands)):
                yield self.at(df, inst, f"`{commands[updates[0]].name} update` without an install after "
                                        "it in the same RUN: combine them.")  # fmt: skip
                return
