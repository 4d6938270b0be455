"""PSB-I006: no HEALTHCHECK in the image config."""

from __future__ import annotations

from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import CONFIG, Rule, ScanContext, config_location
from pysandbox.types import Finding, Severity


class NoHealthcheck(Rule):
    id = "PSB-I006"
    severity = Severity.LOW
    title = "No HEALTHCHECK defined"
    fix = "Add `HEALTHCHECK CMD <probe>` so orchestrators can detect a hung container."
    scanner = CONFIG
    aliases = ("CIS-DI-0006", "DS026", "AVD-DS-0026")

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        health = ctx.image_config.get("Healthcheck")
        test = health.get("Test") if isinstance(health, dict) else None
        if not test:
            yield self.finding("The image defines no HEALTHCHECK.", config_location("Healthcheck"))
        elif test == ["NONE"]:
            yield self.finding("HEALTHCHECK is disabled (HEALTHCHECK NONE).", config_location("Healthcheck"))


RULE = NoHealthcheck()
