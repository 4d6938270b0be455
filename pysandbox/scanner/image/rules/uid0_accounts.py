"""PSB-I017: accounts other than root with uid 0 in /etc/passwd."""

from __future__ import annotations

from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import FILES, Rule, ScanContext
from pysandbox.types import Finding, Severity


class ExtraUid0(Rule):
    id = "PSB-I017"
    severity = Severity.HIGH
    title = "Extra uid-0 account"
    fix = "Give every account but root its own non-zero uid (or delete the account)."
    scanner = FILES
    aliases = ("DKL-LI-0002",)

    def keep(self, path: str, size: int) -> bool:
        return path == "/etc/passwd"

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        record = ctx.fs.resolve("/etc/passwd")
        if record is None or record.content is None:
            return
        for number, line in enumerate(record.text().splitlines(), 1):
            fields = line.split(":")
            if len(fields) >= 4 and fields[0] != "root" and fields[2].strip() == "0":
                yield self.file_finding(
                    ctx,
                    record,
                    f"/etc/passwd:{number}: account {fields[0]!r} has uid 0 (a second root).",
                    line=number,
                )


RULE = ExtraUid0()
