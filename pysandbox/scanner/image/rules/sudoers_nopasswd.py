"""PSB-I016: sudoers grants NOPASSWD (any process as that user becomes root without a password)."""

from __future__ import annotations

from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import FILES, Rule, ScanContext, in_dir
from pysandbox.scanner.image.source import Kind
from pysandbox.types import Finding, Severity


def is_sudoers(path: str) -> bool:
    return path == "/etc/sudoers" or in_dir(path, "/etc/sudoers.d")


class SudoersNopasswd(Rule):
    id = "PSB-I016"
    severity = Severity.MEDIUM
    title = "sudo without password"
    fix = "Remove NOPASSWD rules (and sudo itself) from the image; run as the user the workload needs."
    scanner = FILES
    aliases = ("DKL-DI-0001",)

    def keep(self, path: str, size: int) -> bool:
        return is_sudoers(path) and size <= 1024 * 1024

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        for path, record in sorted(ctx.fs.live.items()):
            if not is_sudoers(path) or record.kind is not Kind.FILE or record.content is None:
                continue
            for number, line in enumerate(record.text().splitlines(), 1):
                rule = line.split("#", 1)[0].strip()
                if "NOPASSWD" in rule and "!NOPASSWD" not in rule.replace(" ", ""):
                    yield self.file_finding(
                        ctx, record, f"{path}:{number} grants sudo without a password: {rule}", line=number
                    )


RULE = SudoersNopasswd()
