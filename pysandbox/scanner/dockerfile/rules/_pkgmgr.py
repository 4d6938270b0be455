"""Helpers for the yum/dnf/zypper rules (not a rule module: the underscore keeps it out of discovery).

hadolint matches package-manager subcommands anywhere in the arguments (`yum -y install` and
`yum install` alike) and takes every non-flag argument as a package; these helpers do the same so
that our findings line up with its findings.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from pysandbox.scanner.dockerfile.model import Instruction
from pysandbox.scanner.dockerfile.shell import Command, ShellScript


def has_any_arg(cmd: Command, words: Collection[str]) -> bool:
    return any(a in words for a in cmd.args)


def runs(cmd: Command, names: Collection[str], subcommands: Collection[str]) -> bool:
    """`runs(cmd, {"yum"}, {"install"})`: the program is one of `names` with one of `subcommands`."""
    return cmd.name in names and has_any_arg(cmd, subcommands)


def args_without_flags(cmd: Command, skip: Collection[str] = ()) -> list[str]:
    return [a for a in cmd.args if not a.startswith("-") and a not in skip]


def first_index(script: ShellScript, predicate: Callable[[Command], bool]) -> int | None:
    return next((i for i, c in enumerate(script.commands) if predicate(c)), None)


def last_index(script: ShellScript, predicate: Callable[[Command], bool]) -> int | None:
    found = [i for i, c in enumerate(script.commands) if predicate(c)]
    return found[-1] if found else None


def removes_path(script: ShellScript, *prefixes: str) -> bool:
    """`rm -rf /var/cache/yum/*` and the like: some rm argument starts with one of `prefixes`."""
    return any(a.startswith(prefixes) for c in script.find("rm") for a in c.args)


def cache_mounted(inst: Instruction, *prefixes: str) -> bool:
    """A `--mount=type=cache` (or tmpfs) over one of these directories keeps the cache out of the layer."""
    for m in inst.mounts():
        target = m.get("target", m.get("dst", m.get("destination", "")))
        if m.get("type") in ("cache", "tmpfs") and target.rstrip("/").startswith(prefixes):
            return True
    return False
