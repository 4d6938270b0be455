"""PSB3010: an archive COPYed and then extracted by RUN."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import basename, is_archive, source_and_dest
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Finding, Severity

_UNPACKERS = frozenset({"unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz", "uncompress", "zcat", "gzcat"})


def _extracts(cmd: Command) -> bool:
    if cmd.name == "tar":
        return any(a in ("--extract", "--get") or (a.startswith("-") and not a.startswith("--") and "x" in a)
                   for a in cmd.args) or bool(cmd.args and cmd.args[0].startswith("x"))  # fmt: skip
    return cmd.name in _UNPACKERS


class CopyThenExtract(Rule):
    id = "PSB3010"
    severity = Severity.LOW
    title = "Archive copied and then extracted"
    message = (
        "The archive is copied into one layer and extracted into another, so it is stored twice: "
        "use `ADD archive.tar.gz /dest/` (local archives are extracted by ADD), or extract in a build stage."
    )
    aliases = ("DL3010",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            archives: dict[str, int] = {}  # basename -> COPY line
            for inst in stage.instructions:
                if inst.cmd == "COPY" and inst.flag("from") is None:
                    sources, dest = source_and_dest(inst.args, {h.name for h in inst.heredocs})
                    if dest is not None and is_archive(dest):
                        archives[basename(dest)] = inst.line
                    else:
                        archives.update({basename(s): inst.line for s in sources if is_archive(s)})
                elif inst.cmd == "RUN" and archives and inst.shell is not None:
                    for cmd in inst.shell:
                        if _extracts(cmd):
                            for arg in cmd.positional():
                                line = archives.pop(basename(arg), None)
                                if line is not None:
                                    yield self.finding(df, line)
