"""PSB-I018: accounts with an empty password in /etc/shadow (or in /etc/passwd itself)."""

from __future__ import annotations

from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import FILES, Rule, ScanContext
from pysandbox.types import Finding, Severity


class EmptyPassword(Rule):
    id = "PSB-I018"
    severity = Severity.HIGH
    title = "Account with empty password"
    fix = "Lock the account (`passwd -l NAME`, i.e. `!` or `*` in the password field) or set a password."
    scanner = FILES
    aliases = ("DKL-LI-0001",)

    def keep(self, path: str, size: int) -> bool:
        return path in ("/etc/passwd", "/etc/shadow")

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        for path in ("/etc/shadow", "/etc/passwd"):
            record = ctx.fs.resolve(path)
            if record is None or record.content is None:
                continue
            for number, line in enumerate(record.text().splitlines(), 1):
                fields = line.split(":")
                if len(fields) >= 2 and fields[0] and not line.startswith("#") and fields[1] == "":
                    yield self.file_finding(
                        ctx,
                        record,
                        f"{path}:{number}: account {fields[0]!r} has an empty "
                        "password: anyone can log in as it.",
                        line=number,
                    )


RULE = EmptyPassword()
