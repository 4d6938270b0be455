"""Inline pragmas: `# pysandbox ignore=PSB3008` and hadolint's `# hadolint ignore=DL3008,DL3009`.

`ignore=` applies to the instruction that follows the comment block it sits in; `global ignore=`
applies to the whole file. Ids may be pysandbox ids or aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pysandbox.scanner.dockerfile.model import Dockerfile

_PRAGMA = re.compile(r"^\s*#\s*(?:pysandbox|hadolint)\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9_,\s-]+?)\s*$")


@dataclass
class Pragmas:
    global_ignores: set[str] = field(default_factory=set)
    by_line: dict[int, set[str]] = field(default_factory=dict)  # instruction start line -> names

    def ignored_at(self, line: int | None) -> set[str]:
        return self.global_ignores | (self.by_line.get(line, set()) if line else set())


def parse_pragmas(df: Dockerfile) -> Pragmas:
    pragmas = Pragmas()
    if "ignore" not in df.text:
        return pragmas
    pending: set[str] = set()
    starts = {inst.line for inst in df.instructions}
    for number, line in enumerate(df.lines, start=1):
        match = _PRAGMA.match(line)
        if match:
            names = {n.strip().upper() for n in re.split(r"[,\s]+", match.group(2)) if n.strip()}
            if match.group(1):
                pragmas.global_ignores |= names
            else:
                pending |= names
            continue
        if number in starts:
            if pending:
                pragmas.by_line.setdefault(number, set()).update(pending)
            pending = set()
        elif line.strip() and not line.lstrip().startswith("#"):
            pending = set()
    return pragmas
