"""PSB1003: a download piped into a shell (`curl ... | sh`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import ShellScript
from pysandbox.types import Finding, Severity

DOWNLOADERS = frozenset({"curl", "wget", "fetch", "http", "https"})
INTERPRETERS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "fish", "python", "python2", "python3",
                          "perl", "ruby", "node", "php", "pwsh", "sudo", "source", "."})  # fmt: skip
# `sh -c "$(curl ...)"`, `bash <(wget -O- ...)`, `. <(curl ...)`
_SUBSTITUTED = re.compile(r"(?:\$\(|<\(|`)\s*(?:curl|wget)\b")


def _interpreter(name: str) -> bool:
    return name in INTERPRETERS or re.match(r"^python\d(\.\d+)?$", name) is not None


class PipeToShell(RunRule):
    id = "PSB1003"
    severity = Severity.HIGH
    title = "Download piped into a shell"
    message = (
        "`curl ... | sh` runs whatever the server sends, unverified, and a cut connection runs half a "
        "script: download to a file, verify its checksum or signature, then run it."
    )
    fix = (
        "RUN curl -fsSLo /tmp/install.sh https://example.com/install.sh "
        "&& echo '<sha256>  /tmp/install.sh' | sha256sum -c - && sh /tmp/install.sh"
    )

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterator[Finding]:
        for pipeline in script.pipelines():
            names = [c.name for c in pipeline]
            download = next((i for i, n in enumerate(names) if n in DOWNLOADERS), None)
            if download is not None and any(_interpreter(n) for n in names[download + 1 :]):
                yield self.at(df, inst, f"`{names[download]} ... | {names[-1]}` runs an unverified download: "
                                        "save it, check its checksum, then run it.")  # fmt: skip
                return
        for cmd in script:
            if _interpreter(cmd.name) and any(_SUBSTITUTED.search(a) for a in cmd.args):
                yield self.at(df, inst)
                return
        if _SUBSTITUTED.search(script.text) and re.search(r"\b(?:sh|bash)\s+(?:-\w+\s+)*<\(", script.text):
            yield self.at(df, inst)
