"""PSB3042: pip install without --no-cache-dir."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import cache_mounted
from pysandbox.scanner.dockerfile.shell import Command, ShellScript
from pysandbox.types import Finding, Severity

TRUTHY = frozenset({"1", "true", "on", "yes"})
_INLINE_SETTING = re.compile(r"PIP_NO_CACHE_DIR=['\"]?([A-Za-z0-9]+)")
_WRAPPERS = ("pipx", "pipenv")


def is_pip_install(cmd: Command) -> bool:
    """`pip install`, `pip3.11 install`, `python3 -m pip install` (not pipx/pipenv)."""
    if cmd.name.startswith("pip") and not cmd.name.startswith(_WRAPPERS):
        return "install" in cmd.args
    if cmd.name.startswith("python"):
        args = list(cmd.args)
        for i in range(len(args) - 2):
            if args[i : i + 3] == ["-m", "pip", "install"]:
                return True
    return False


def _cache_disabled(inst: Instruction, script: ShellScript) -> bool:
    value = inst.env.get("PIP_NO_CACHE_DIR")
    if value is not None and value.lower() in TRUTHY:
        return True
    inline = _INLINE_SETTING.search(script.text)
    return inline is not None and inline.group(1).lower() in TRUTHY


class PipNoCacheDir(RunRule):
    id = "PSB3042"
    severity = Severity.MEDIUM
    title = "pip install keeps its cache"
    message = (
        "pip keeps downloaded wheels in ~/.cache/pip, which ends up in the layer: use "
        "`pip install --no-cache-dir`, set `ENV PIP_NO_CACHE_DIR=1`, or use a cache mount."
    )
    fix = "pip install --no-cache-dir requests==2.32.3"
    aliases = ("DL3042",)

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterator[Finding]:
        offending = [c for c in script if is_pip_install(c) and "--no-cache-dir" not in c.args]
        if not offending or _cache_disabled(inst, script):
            return
        if any(".cache/pip" in m.get("target", m.get("dst", "")) for m in inst.mounts()):
            return
        if cache_mounted(inst, "/root/.cache"):
            return
        yield self.at(df, inst)
