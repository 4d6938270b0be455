"""PSB3045: COPY to a relative destination while no WORKDIR is set."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Stage
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import source_and_dest, unquote
from pysandbox.types import Finding, Severity


def _is_absolute(dest: str) -> bool:
    dest = unquote(dest).lstrip("\"'")  # `"${HOME}"/file` starts with a variable too
    return dest.startswith(("/", "$")) or dest[1:3] in (":\\", ":/")


def _workdir_inherited(stage: Stage | None) -> bool:
    seen: set[int] = set()
    while stage is not None and stage.parent is not None and stage.index not in seen:
        seen.add(stage.index)
        stage = stage.parent
        if any(i.cmd == "WORKDIR" for i in stage.instructions):
            return True
    return False


class CopyRelativeNoWorkdir(Rule):
    id = "PSB3045"
    severity = Severity.MEDIUM
    title = "COPY to a relative destination without WORKDIR"
    message = (
        "A relative COPY destination depends on the base image's working directory, which can change: "
        "set WORKDIR first or use an absolute destination."
    )
    fix = "WORKDIR /app\nCOPY . ."
    aliases = ("DL3045",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            workdir = _workdir_inherited(stage)
            for inst in stage.instructions:
                if inst.cmd == "WORKDIR":
                    workdir = True
                elif inst.cmd == "COPY" and not workdir:
                    _, dest = source_and_dest(inst.args, {h.name for h in inst.heredocs})
                    if dest is not None and not _is_absolute(dest):
                        yield self.at(
                            df, inst, f"COPY to relative `{dest}` without WORKDIR: set WORKDIR first."
                        )
