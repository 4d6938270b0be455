"""PSB-I002: a secret is baked into the image's environment (config Env)."""

from __future__ import annotations

from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import CONFIG, Rule, ScanContext, config_location
from pysandbox.scanner.image.secrets import a_or_an, find_secrets, redact, secret_assignment
from pysandbox.types import Finding, Severity


class EnvSecret(Rule):
    id = "PSB-I002"
    severity = Severity.HIGH
    title = "Secret in environment variable"
    fix = (
        "Do not bake secrets into ENV: pass them at run time (--env-file, orchestrator secrets) "
        "or mount them as files, and rotate the exposed secret."
    )
    scanner = CONFIG
    aliases = ("CIS-DI-0010",)

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        for item in ctx.image_config.get("Env") or []:
            name, _, value = str(item).partition("=")
            matches = find_secrets(value.encode())
            if matches:
                m = matches[0]
                yield self.finding(
                    f"Env {name} holds {a_or_an(m.pattern.title)} ({m.secret}).",
                    config_location(f"Env/{name}"),
                    severity=max(self.severity, m.pattern.severity),
                    aliases=(m.pattern.id,),
                )
            elif secret_assignment(name, value):
                yield self.finding(
                    f"Env {name} looks like a secret ({redact(value.encode())}).",
                    config_location(f"Env/{name}"),
                )


RULE = EnvSecret()
