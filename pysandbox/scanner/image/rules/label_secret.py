"""PSB-I003: a secret is stored in an image label."""

from __future__ import annotations

from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import CONFIG, Rule, ScanContext, config_location
from pysandbox.scanner.image.secrets import a_or_an, find_secrets, redact, secret_assignment
from pysandbox.types import Finding, Severity


class LabelSecret(Rule):
    id = "PSB-I003"
    severity = Severity.HIGH
    title = "Secret in image label"
    fix = "Remove the secret from LABEL (labels are public metadata of the image) and rotate it."
    scanner = CONFIG
    aliases = ("CIS-DI-0010",)

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        labels = ctx.image_config.get("Labels") or {}
        for name, value in sorted(labels.items()) if isinstance(labels, dict) else ():
            matches = find_secrets(str(value).encode())
            if matches:
                m = matches[0]
                yield self.finding(
                    f"Label {name} holds {a_or_an(m.pattern.title)} ({m.secret}).",
                    config_location(f"Labels/{name}"),
                    severity=max(self.severity, m.pattern.severity),
                    aliases=(m.pattern.id,),
                )
            elif secret_assignment(name, str(value)):
                yield self.finding(
                    f"Label {name} looks like a secret ({redact(str(value).encode())}).",
                    config_location(f"Labels/{name}"),
                )


RULE = LabelSecret()
