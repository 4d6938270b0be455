"""PSB3016: npm install of packages without pinned versions."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity

_GIT = ("git://", "git+ssh://", "git+http://", "git+https://")


def npm_pinned(package: str) -> bool:
    if package.startswith(_GIT):
        return "#" in package
    if package.endswith((".tar", ".tar.gz", ".tgz")) or package.startswith(("/", "./", "../", "~/")):
        return True
    name = package.split("/", 1)[1] if package.startswith("@") and "/" in package else package
    return "@" in name


class NpmPin(RunRule):
    id = "PSB3016"
    severity = Severity.MEDIUM
    title = "npm install without pinned versions"
    message = (
        "Unpinned npm packages make builds unreproducible: use `npm install <package>@<version>` or `npm ci`."
    )
    fix = "npm install express@4.19.2"
    aliases = ("DL3016",)

    def check_command(self, cmd: Command) -> str | bool:
        if cmd.name != "npm":
            return False
        words = cmd.positional()
        if not words or words[0] not in ("install", "i", "add"):
            return False
        unpinned = [p for p in words[1:] if not npm_pinned(p)]
        if unpinned:
            return f"Pin the versions of {', '.join(unpinned)} (npm install <package>@<version>)."
        return False
