"""Pick the backend this process can use: v2 when a delegated v2 subtree with controllers exists,
else v1 (as root, or under the per-user subtree from `pysandbox setup --delegate`)."""

from __future__ import annotations

import os

from pysandbox.sandbox.cgroups.fs import CgroupFs, join, root_mounts, within
from pysandbox.sandbox.cgroups.v1 import SUBTREE, V1Backend, mount_points
from pysandbox.sandbox.cgroups.v2 import V2Backend, controllers

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from os import PathLike

Backend = V1Backend | V2Backend


def v2_mount(mountinfo: str = "/proc/self/mountinfo") -> str | None:
    return next((mount for fstype, mount, _ in root_mounts(mountinfo) if fstype == "cgroup2"), None)


def own_v2_cgroup(proc_cgroup: str = "/proc/self/cgroup") -> str | None:
    try:
        with open(proc_cgroup) as fh:
            for line in fh:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        pass
    return None


def v2_base(mount: str | PathLike[str], uid: int, fs: CgroupFs, own: str | None = None) -> str | None:
    """The v2 directory our sandboxes go under, or None when v2 has nothing usable for us.

    Rootless, that is the subtree `setup --delegate` prepared, else (systemd user delegation) the
    nearest ancestor of our own cgroup `own` that we may manage. Enabling controllers there fails
    while it holds processes itself (v2's "no internal processes" rule); `create` then says so.
    """
    mount = os.fspath(mount)
    if uid == 0:
        return join(mount, SUBTREE)
    prepared = join(mount, SUBTREE, f"user-{uid}")
    if fs.exists(prepared) and fs.writable(prepared):
        return prepared
    own = own if own is not None else own_v2_cgroup()
    if own is None:
        return None
    relative = own.strip("/")
    cgroup = join(mount, relative) if relative else mount
    while within(cgroup, mount):
        if (
            controllers(fs, cgroup)
            and fs.writable(cgroup)
            and fs.writable(join(cgroup, "cgroup.subtree_control"))
        ):
            return cgroup
        cgroup = os.path.dirname(cgroup)
    return None


def detect(fs: CgroupFs | None = None, uid: int | None = None) -> Backend | None:
    """v2 where it carries the memory controller (a v2-managed machine), else v1 when mounted.

    Detection only reads: nothing is created or enabled until a sandbox needs it.
    """
    fs = fs or CgroupFs()
    uid = os.geteuid() if uid is None else uid
    mount = v2_mount()
    if mount is not None and "memory" in controllers(fs, mount):
        base = v2_base(mount, uid, fs)
        if base is not None:
            return V2Backend(base, fs, make_base=uid == 0)
    mounts = mount_points()
    if mounts:
        return V1Backend(mounts, fs, uid)
    return None
