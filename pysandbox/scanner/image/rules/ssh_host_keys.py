"""PSB-I020: SSH host keys baked into the image (every container shares one host identity)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import FILES, Rule, ScanContext
from pysandbox.scanner.image.source import Kind
from pysandbox.types import Finding, Severity

_HOST_KEY = re.compile(r"^/etc/ssh/ssh_host_[a-z0-9]+_key$")


def is_host_key(path: str) -> bool:
    return _HOST_KEY.match(path) is not None


class SshHostKeys(Rule):
    id = "PSB-I020"
    severity = Severity.HIGH
    title = "SSH host key baked into image"
    fix = (
        "Delete /etc/ssh/ssh_host_*_key in the same build step that creates them "
        "and generate keys at start-up."
    )
    scanner = FILES

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        for record in ctx.fs.records:
            if is_host_key(record.path) and record.kind in (Kind.FILE, Kind.HARDLINK):
                yield self.file_finding(
                    ctx,
                    record,
                    f"{record.path} is a private SSH host key shipped in the image: "
                    "every container from it shares this identity.",
                )


RULE = SshHostKeys()
