"""Find and remove cgroups of sandboxes whose launcher is gone (killed with -9, crashed)."""

from __future__ import annotations

from pysandbox.sandbox.cgroups import owner
from pysandbox.sandbox.cgroups.base import PREFIX, Cgroup, remove_dirs
from pysandbox.sandbox.cgroups.fs import CgroupFs, join

# A leaf without an owner tag is either being created right now or was orphaned between mkdir and
# tagging; only the second survives this long.
UNTAGGED_GRACE_S = 60.0


def leaves(fs: CgroupFs, base: str) -> list[str]:
    return [join(base, name) for name in fs.children(base) if name.startswith(PREFIX)]


def is_stale(fs: CgroupFs, leaf: str) -> bool:
    tag = fs.owner(leaf)
    if tag is not None:
        return not owner.is_alive(tag)
    try:
        return fs.age(leaf) > UNTAGGED_GRACE_S and not fs.procs(leaf)
    except OSError:
        return False


def sweep(fs: CgroupFs, bases: list[str]) -> list[str]:
    """Remove every stale sandbox cgroup directly under `bases`; returns what was removed."""
    removed: list[str] = []
    for base in bases:
        for leaf in leaves(fs, base):
            if not is_stale(fs, leaf):
                continue
            try:
                remove_dirs(fs, (leaf,), Cgroup(fs, (leaf,)).kill, timeout=5.0)
            except Exception:
                continue  # best effort: a later run tries again
            removed.append(leaf)
    return removed
