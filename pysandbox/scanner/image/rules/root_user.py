"""PSB-I001: the image runs as root (no USER, USER root/0, or a name whose uid is 0)."""

from __future__ import annotations

from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import CONFIG, Rule, ScanContext, config_location
from pysandbox.types import Finding, Severity, is_decimal


def _uid_of(ctx: ScanContext, name: str) -> int | None:
    passwd = ctx.fs.content("/etc/passwd")
    for line in (passwd or b"").decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[0] == name and is_decimal(fields[2]):
            return int(fields[2])
    return None


class RootUser(Rule):
    id = "PSB-I001"
    severity = Severity.MEDIUM
    title = "Image runs as root"
    fix = "Add a non-root user and switch to it with `USER <uid>` (a numeric uid, e.g. USER 10001)."
    scanner = CONFIG
    aliases = ("CIS-DI-0001", "DS002", "AVD-DS-0002")

    def keep(self, path: str, size: int) -> bool:
        return path == "/etc/passwd"

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        user = str(ctx.image_config.get("User") or "").strip()
        name = user.split(":", 1)[0]
        if not name:
            yield self.finding(
                "No USER is set: processes in the container run as root (uid 0).", config_location("User")
            )
        elif name in ("root", "0"):
            yield self.finding(
                f"USER is {user!r}: processes in the container run as root.", config_location("User")
            )
        elif not name.isdigit() and _uid_of(ctx, name) == 0:
            yield self.finding(
                f"USER {name!r} has uid 0 in /etc/passwd: it is root.", config_location("User")
            )


RULE = RootUser()
