"""PSB3062: go install / go get of a module without a version."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.rule import RunRule
from pysandbox.scanner.dockerfile.shell import Command
from pysandbox.types import Severity

_GO_OPTIONS_WITH_VALUE = frozenset({"-o", "-C", "-p", "-tags", "-ldflags", "-gcflags", "-mod", "-modfile",
                                    "-asmflags", "-buildmode", "-compiler", "-pkgdir", "-toolexec",
                                    "-overlay", "-pgo", "-installsuffix", "-exec"})  # fmt: skip


def unpinned_go_packages(cmd: Command) -> list[str]:
    if cmd.name != "go":
        return []
    positional = cmd.positional(_GO_OPTIONS_WITH_VALUE)
    if positional[:1] not in (["install"], ["get"], ["run"]):
        return []
    # local packages (`.`, `./cmd/...`, `main.go`) build what is in the context, versioned already
    local = [p for p in positional[1:] if p.startswith((".", "/", "$")) or p.endswith(".go")]
    # `go run pkg args...`: only the first word is the package
    candidates = positional[1:2] if positional[0] == "run" else positional[1:]
    return [p for p in candidates if p not in local and _unpinned(p)]


def _unpinned(package: str) -> bool:
    _, at, version = package.partition("@")
    return not at or version in _MOVING


_MOVING = frozenset({"latest", "master", "main", "HEAD", "upgrade", "patch"})


class GoInstallPin(RunRule):
    id = "PSB3062"
    severity = Severity.MEDIUM
    title = "go install / go run without a pinned version"
    message = (
        "`go install <module>` without @version (or with @latest) builds whatever is current at "
        "build time: use `go install <module>@<version>`."
    )
    fix = "go install golang.org/x/tools/gopls@v0.15.3"
    aliases = ("DL3062",)

    def check_command(self, cmd: Command) -> str | bool:
        unpinned = unpinned_go_packages(cmd)
        if unpinned:
            return f"Pin {', '.join(unpinned)} with @<version> (go install <module>@<version>)."
        return False
