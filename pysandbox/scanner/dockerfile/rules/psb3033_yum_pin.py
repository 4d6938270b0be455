"""PSB3033: yum install of packages without pinned versions."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.rules._pkgmgr import args_without_flags, has_any_arg
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity


def yum_pinned(package: str) -> bool:
    """`httpd-2.4.6`, a local or remote `.rpm`: hadolint takes any dash as a version separator."""
    return "-" in package or package.endswith(".rpm")


class YumPin(RunRule):
    id = "PSB3033"
    severity = Severity.MEDIUM
    title = "yum install without pinned versions"
    message = (
        "Unpinned yum packages make builds unreproducible: "
        "use `yum install -y <package>-<version>` (modules: `<module>:<stream>`)."
    )
    fix = "yum install -y httpd-2.4.6"
    aliases = ("DL3033",)

    def check_command(self, cmd: Command) -> str | bool:
        if cmd.name != "yum" or not has_any_arg(cmd, {"install"}):
            return False
        words = args_without_flags(cmd, {"install", "module"})
        if has_any_arg(cmd, {"module"}):
            unpinned = [w for w in words if ":" not in w]
        else:
            unpinned = [w for w in words if not yum_pinned(w)]
        if unpinned:
            return f"Pin the versions of {', '.join(unpinned)} (yum install -y <package>-<version>)."
        return False
