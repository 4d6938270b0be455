"""PSB-I005: the image exposes the SSH port (22)."""

from __future__ import annotations

from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import CONFIG, Rule, ScanContext, config_location
from pysandbox.types import Finding, Severity


class SshPort(Rule):
    id = "PSB-I005"
    severity = Severity.MEDIUM
    title = "SSH port exposed"
    fix = "Do not run sshd in containers: remove `EXPOSE 22` and use `docker exec`/`kubectl exec` for access."
    scanner = CONFIG
    aliases = ("DS004", "AVD-DS-0004")

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        ports = ctx.image_config.get("ExposedPorts") or {}
        for port in sorted(ports):
            number, _, proto = str(port).partition("/")
            if number == "22" and proto in ("", "tcp"):
                yield self.finding(f"Port {port} (ssh) is exposed.", config_location("ExposedPorts/22"))


RULE = SshPort()
