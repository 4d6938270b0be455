"""PSB-I014: secrets by pattern in text files (AWS, GCP, GitHub, Slack, Stripe, JWT, generic)."""

from __future__ import annotations

from pysandbox.scanner.image.fsview import FileRecord
from pysandbox.scanner.image.rules.base import SECRET, Rule, ScanContext
from pysandbox.scanner.image.secrets import a_or_an, find_secrets, is_binary, scannable
from pysandbox.types import Severity


class _Consumer:
    def __init__(self, rule: SecretPattern, ctx: ScanContext) -> None:
        self.rule, self.ctx = rule, ctx

    def wants(self, path: str, size: int) -> bool:
        return scannable(path, size)

    def consume(self, record: FileRecord, data: bytes) -> None:
        if is_binary(data):
            return
        for m in find_secrets(data):
            self.rule.file_finding(
                self.ctx,
                record,
                f"{record.path}:{m.line} contains {a_or_an(m.pattern.title)} ({m.secret}).",
                line=m.line,
                severity=m.pattern.severity,
                aliases=(m.pattern.id,),
                secret_type=m.pattern.id,
            )


class SecretPattern(Rule):
    id = "PSB-I014"
    severity = Severity.HIGH
    title = "Secret in file"
    fix = (
        "Remove the secret from the image (build secrets: `RUN --mount=type=secret`; run time: env or "
        "mounted files) and rotate it: deleting it in a later layer does not remove it."
    )
    scanner = SECRET
    aliases = ("CIS-DI-0010",)

    def consumer(self, ctx: ScanContext) -> _Consumer:
        return _Consumer(self, ctx)


RULE = SecretPattern()
