"""PSB3013: pip install of packages without pinned versions."""

from __future__ import annotations

import re

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity

PIP_OPTIONS_WITH_VALUE = frozenset(
    f"-{o}" if len(o) == 1 else f"--{o}"
    for o in ("abi", "b", "build", "e", "editable", "extra-index-url", "f", "find-links", "i", "index-url",
              "implementation", "no-binary", "only-binary", "platform", "prefix", "progress-bar", "proxy",
              "python-version", "root", "src", "t", "target", "trusted-host", "upgrade-strategy", "c",
              "constraint", "r", "requirement", "log", "cache-dir", "timeout", "retries", "exists-action")
)  # fmt: skip
_PIP = re.compile(r"^pip(\d+(\.\d+)?)?$")
_VERSION_SYMBOLS = ("==", ">=", "<=", ">", "<", "!=", "~=", "===")
_VCS = ("git+", "hg+", "svn+", "bzr+", "git:", "svn:")


def pip_install_args(cmd: Command) -> list[str] | None:
    """Positional arguments after `install` of `pip install` / `python -m pip install`; None otherwise."""
    if _PIP.match(cmd.name):
        words = cmd.positional(PIP_OPTIONS_WITH_VALUE)
    elif cmd.name.startswith("python") and cmd.args[:2] == ("-m", "pip"):
        words = [w for w in cmd.positional(PIP_OPTIONS_WITH_VALUE) if w != "pip"]
    else:
        return None
    if not words or words[0] != "install":
        return None
    return words[1:]


def pip_pinned(package: str) -> bool:
    if any(s in package for s in _VERSION_SYMBOLS):
        return True
    if package.startswith(_VCS):
        return "@" in package.split("://", 1)[-1]
    return package.endswith((".whl", ".tar.gz", ".zip")) or "/" in package or package in (".", "..")


class PipPin(RunRule):
    id = "PSB3013"
    severity = Severity.MEDIUM
    title = "pip install without pinned versions"
    message = (
        "Unpinned pip packages make builds unreproducible and let a compromised release in: "
        "use `pip install <package>==<version>` or a requirements file with hashes."
    )
    fix = "pip install --no-cache-dir requests==2.32.3"
    aliases = ("DL3013",)

    def check_command(self, cmd: Command) -> str | bool:
        packages = pip_install_args(cmd)
        if packages is None or cmd.has_flag("r", "requirement", "c", "constraint", "e", "editable"):
            return False
        unpinned = [p for p in packages if not pip_pinned(p)]
        if unpinned:
            return f"Pin the versions of {', '.join(unpinned)} (pip install <package>==<version>)."
        return False
