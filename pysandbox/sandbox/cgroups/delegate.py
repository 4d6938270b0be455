"""`pysandbox setup --delegate USER`: as root, give a user cgroup subtrees it may use rootless.

v1: `<mount>/pysandbox/user-<uid>` in each hierarchy (memory, cpu, cpuacct, cpuset, pids, and
blkio when it has weights), chowned to the user; the limit files of that directory stay root's,
so the user manages only the sandboxes below it. v2: `<mount>/pysandbox/user-<uid>` with the
controllers enabled and the directory plus its delegation files chowned (cgroup-v2.rst,
"Delegation"). `--undo` removes the subtrees (refusing while sandboxes run in them).
"""

from __future__ import annotations

import errno
import os

from pysandbox.sandbox.cgroups.base import remove_dirs
from pysandbox.sandbox.cgroups.fs import CgroupFs, join
from pysandbox.sandbox.cgroups.stale import leaves, sweep
from pysandbox.sandbox.cgroups.v1 import CONTROLLERS, SUBTREE, inherit_cpuset, io_weight_file, user_subtree
from pysandbox.sandbox.cgroups.v2 import controllers
from pysandbox.types import SandboxError, UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from os import PathLike

V2_DELEGATION_FILES = ("cgroup.procs", "cgroup.threads", "cgroup.subtree_control")


def v1_hierarchies(fs: CgroupFs, mounts: dict[str, str]) -> list[str]:
    """The mounts of the hierarchies worth delegating."""
    chosen: list[str] = []
    for controller in CONTROLLERS:
        mount = mounts.get(controller)
        if mount is None or (controller == "blkio" and io_weight_file(fs, mount) is None):
            continue
        if mount not in chosen:
            chosen.append(mount)
    return chosen


def delegate_v1(fs: CgroupFs, mounts: dict[str, str], uid: int, gid: int) -> list[str]:
    done: list[str] = []
    for mount in v1_hierarchies(fs, mounts):
        base = _mkdir(fs, join(mount, SUBTREE), mount)
        sub = _mkdir(fs, user_subtree(mount, uid), base)
        fs.chown(sub, uid, gid)
        done.append(sub)
    return done


def delegate_v2(fs: CgroupFs, mount: str | PathLike[str], uid: int, gid: int) -> list[str]:
    mount = os.fspath(mount)
    if not controllers(fs, mount):
        return []
    base = join(mount, SUBTREE)
    if not fs.exists(base):
        fs.mkdir(base)
    enable_all(fs, mount)
    enable_all(fs, base)
    sub = join(base, f"user-{uid}")
    if not fs.exists(sub):
        fs.mkdir(sub)
    enable_all(fs, sub)
    fs.chown(sub, uid, gid)
    for name in V2_DELEGATION_FILES:
        fs.chown(join(sub, name), uid, gid)
    return [sub]


def undo(fs: CgroupFs, subtrees: list[str] | list[PathLike[str]]) -> list[str]:
    """Remove the given user subtrees (and `pysandbox/` when it is left empty)."""
    removed: list[str] = []
    for sub in map(os.fspath, subtrees):
        if not fs.exists(sub):
            continue
        sweep(fs, [sub])
        if leaves(fs, sub):
            raise SandboxError(f"{sub} still holds running sandboxes: stop them, then run --undo again")
        remove_dirs(fs, (sub,), lambda: None)
        removed.append(sub)
        try:
            fs.rmdir(os.path.dirname(sub))
        except OSError as exc:
            if exc.errno not in (errno.EBUSY, errno.ENOTEMPTY, errno.ENOENT):
                raise
    return removed


def enable_all(fs: CgroupFs, cgroup: str) -> None:
    enabled = controllers(fs, cgroup, "cgroup.subtree_control")
    for controller in sorted(controllers(fs, cgroup) - enabled):
        try:
            fs.write(join(cgroup, "cgroup.subtree_control"), f"+{controller}")
        except OSError:
            pass  # e.g. a controller the kernel refuses here; the others still help


def _mkdir(fs: CgroupFs, path: str, parent: str) -> str:
    if not fs.exists(path):
        fs.mkdir(path)
        inherit_cpuset(fs, parent, path)
    return path


def cgroup_setup(fs: CgroupFs, uid: int, gid: int, user: str, undo_it: bool = False) -> list[str]:
    """The cgroup half of `pysandbox setup --delegate USER [--undo]`, one line per subtree."""
    from pysandbox.sandbox.cgroups.detect import v2_mount
    from pysandbox.sandbox.cgroups.v1 import mount_points

    mounts = mount_points()
    v2 = v2_mount()
    v2_usable = v2 is not None and "memory" in controllers(fs, v2)
    if undo_it:
        subs = [user_subtree(m, uid) for m in dict.fromkeys(mounts.values())]
        if v2 is not None:
            subs.append(user_subtree(v2, uid))
        return [f"removed {p}" for p in undo(fs, subs)]
    if not mounts and not v2_usable:
        raise UserError("no cgroup controllers are mounted under /sys/fs/cgroup: mount cgroup v1 or v2 first")
    done = delegate_v1(fs, mounts, uid, gid)
    if v2 is not None and v2_usable:
        done += delegate_v2(fs, v2, uid, gid)
    return [f"delegated {p} to {user} (uid {uid})" for p in done]
