"""`pysandbox setup --delegate USER [--undo]`: what root prepares once so USER can run sandboxes
rootless with resource limits (cgroup subtrees) and `--network slirp` (/dev/net/tun access)."""

from __future__ import annotations

import os

from pysandbox.types import UserError, is_decimal


def setup(user: str, undo: bool = False) -> list[str]:
    from pysandbox.sandbox.cgroups.delegate import cgroup_setup
    from pysandbox.sandbox.cgroups.fs import CgroupFs
    from pysandbox.sandbox.network import tun

    if os.geteuid() != 0:
        raise UserError(f"setup --delegate changes /sys/fs/cgroup and /dev/net/tun and needs root: "
                        f"run `sudo pysandbox setup --delegate {user}`")  # fmt: skip
    uid, gid = lookup(user)
    lines = cgroup_setup(CgroupFs(), uid, gid, user, undo)
    if os.path.exists(tun.TUN):
        try:
            if undo and tun.revoke(uid):
                lines.append(f"revoked {user}'s access to {tun.TUN}")
            elif not undo and tun.grant(uid):
                lines.append(f"granted {user} read/write on {tun.TUN} (for --network slirp)")
        except OSError as exc:
            lines.append(f"warning: cannot change the ACL of {tun.TUN} ({exc.strerror}): "
                         f"--network slirp needs it readable and writable by {user}")  # fmt: skip
    return lines


def lookup(user: str) -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwuid(int(user)) if is_decimal(user) else pwd.getpwnam(user)
    except KeyError:
        raise UserError(f"no such user {user!r}: pass an existing user name or uid") from None
    if entry.pw_uid == 0:
        raise UserError("root needs no delegation: pass the unprivileged user who runs pysandbox")
    return entry.pw_uid, entry.pw_gid
