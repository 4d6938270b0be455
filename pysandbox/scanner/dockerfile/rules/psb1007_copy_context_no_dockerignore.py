"""PSB1007: COPY/ADD of the whole build context without a .dockerignore."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import source_and_dest, unquote
from pysandbox.types import Finding, Severity

_WHOLE_CONTEXT = frozenset({".", "./", "*", "./*", "/"})


def has_dockerignore(df: Dockerfile) -> bool:
    """`.dockerignore` in the context, or BuildKit's per-Dockerfile `<name>.dockerignore` beside it."""
    assert df.context_dir is not None
    name = Path(df.path).name
    return (df.context_dir / ".dockerignore").is_file() or (df.context_dir / f"{name}.dockerignore").is_file()


def copies_context(inst: Instruction) -> bool:
    if inst.flag("from"):
        return False
    sources, _ = source_and_dest(inst.args, {h.name for h in inst.heredocs})
    return any(unquote(s) in _WHOLE_CONTEXT for s in sources)


class CopyContextNoDockerignore(Rule):
    id = "PSB1007"
    severity = Severity.MEDIUM
    title = "Whole build context copied without .dockerignore"
    message = (
        "`COPY . .` without a .dockerignore copies everything next to the Dockerfile into the image: "
        ".git, .env files, credentials, local builds. Add a .dockerignore (or copy only what is needed)."
    )
    fix = "printf '.git\\n.env\\n*.pem\\nnode_modules\\n' > .dockerignore"

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        if df.context_dir is None:  # stdin: no context to look at
            return
        offending = [i for i in df.of("COPY", "ADD") if i.cmd != "ONBUILD" and copies_context(i)]
        if offending and not has_dockerignore(df):
            for inst in offending:
                yield self.at(df, inst)
