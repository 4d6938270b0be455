"""PSB0000: the Dockerfile does not parse (BuildKit would refuse to build it)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity


class ParseError(Rule):
    id = "PSB0000"
    severity = Severity.HIGH
    title = "Dockerfile does not parse"
    message = "BuildKit cannot parse this Dockerfile; fix the syntax at this line."
    aliases = ("DL1000",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        if df.error is not None:
            yield self.finding(df, df.error.line, f"{df.error.message} (BuildKit cannot parse this file)")
