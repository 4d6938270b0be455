"""PSB3002: the last USER of a stage is root."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import is_root_user
from pysandbox.types import Finding, Severity


class LastUserRoot(Rule):
    id = "PSB3002"
    severity = Severity.MEDIUM
    title = "Last USER is root"
    message = (
        "The stage switches to root and never back, so its container runs as root: "
        "add `USER <non-root user>` after the steps that need root."
    )
    fix = "USER 10001:10001"
    aliases = ("DL3002", "CKV_DOCKER_8")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            users = [i for i in stage.instructions if i.cmd == "USER"]
            if users and is_root_user(users[-1].word(users[-1].text)):
                yield self.at(df, users[-1])
