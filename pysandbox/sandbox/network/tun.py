"""Access to /dev/net/tun, which rootless slirp4netns opens from inside the sandbox's user namespace.

The kernel creates the node 0666, but some machines ship it 0600; `pysandbox setup --delegate USER`
then grants that one user read/write with a POSIX ACL entry (written as the raw
`system.posix_acl_access` xattr: no `setfacl` needed), and `--undo` takes it away again.
"""

from __future__ import annotations

import os
import stat
import struct

TUN = "/dev/net/tun"
_XATTR = "system.posix_acl_access"
_VERSION = 2
_USER_OBJ, _USER, _GROUP_OBJ, _GROUP, _MASK, _OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
_UNDEFINED = 0xFFFFFFFF
_RW = 6

Entry = tuple[int, int, int]  # tag, perm, id


def usable(path: str = TUN) -> bool:
    return os.access(path, os.R_OK | os.W_OK)


def grant(uid: int, path: str = TUN) -> bool:
    """Give `uid` rw on the node; False when it needed nothing (already usable by everyone)."""
    mode = os.stat(path).st_mode
    if mode & 0o006 == 0o006:
        return False
    entries = [e for e in _read(path) if not (e[0] == _USER and e[2] == uid)]
    _write(path, [*entries, (_USER, _RW, uid)])
    return True


def revoke(uid: int, path: str = TUN) -> bool:
    entries = _read(path)
    kept = [e for e in entries if not (e[0] == _USER and e[2] == uid)]
    if kept == entries:
        return False
    _write(path, kept)
    return True


def _read(path: str) -> list[Entry]:
    try:
        raw = os.getxattr(path, _XATTR)
    except OSError:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        return [(_USER_OBJ, mode >> 6 & 7, _UNDEFINED), (_GROUP_OBJ, mode >> 3 & 7, _UNDEFINED),
                (_OTHER, mode & 7, _UNDEFINED)]  # fmt: skip
    return [struct.unpack_from("<HHI", raw, 4 + 8 * i) for i in range((len(raw) - 4) // 8)]


def _write(path: str, entries: list[Entry]) -> None:
    """Write the ACL with a recomputed mask; a mode-equivalent ACL makes the kernel drop the xattr."""
    base = [e for e in entries if e[0] != _MASK]
    named = [e for e in base if e[0] in (_USER, _GROUP)]
    if named:
        group_class = [e for e in base if e[0] in (_USER, _GROUP, _GROUP_OBJ)]
        mask = 0
        for _, perm, _ in group_class:
            mask |= perm
        base.append((_MASK, mask, _UNDEFINED))
    base.sort(key=lambda e: (e[0], e[2]))
    raw = struct.pack("<I", _VERSION) + b"".join(struct.pack("<HHI", *e) for e in base)
    os.setxattr(path, _XATTR, raw)
