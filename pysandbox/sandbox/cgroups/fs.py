"""File operations on a cgroup filesystem.

Every backend goes through `CgroupFs` so that the v2 backend can be tested against a file tree
that behaves like cgroupfs (this machine has no v2 controllers); the real class is plain os calls.
Paths are strings joined with `os.path`: `pathlib` (with fnmatch, re, urllib.parse) costs a cold
`pysandbox run` ~8 ms to import.
"""

from __future__ import annotations

import os

OWNER_XATTR = "user.pysandbox.owner"

join = os.path.join


class CgroupFs:
    def read(self, path: str) -> str:
        with open(path) as fh:
            return fh.read()

    def write(self, path: str, text: str) -> None:
        # One write(2) per value: cgroupfs parses each write on its own.
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        os.mkdir(path, mode)

    def rmdir(self, path: str) -> None:
        os.rmdir(path)

    def children(self, path: str) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(path) if e.is_dir(follow_symlinks=False))
        except FileNotFoundError:
            return []

    def chown(self, path: str, uid: int, gid: int) -> None:
        os.chown(path, uid, gid)

    def writable(self, path: str) -> bool:
        return os.access(path, os.W_OK)

    def set_owner(self, path: str, tag: str) -> None:
        os.setxattr(path, OWNER_XATTR, tag.encode())

    def owner(self, path: str) -> str | None:
        try:
            return os.getxattr(path, OWNER_XATTR).decode()
        except OSError:
            return None

    def age(self, path: str) -> float:
        import time

        return time.time() - os.stat(path).st_mtime

    def procs(self, path: str) -> list[int]:
        try:
            return [int(x) for x in self.read(join(path, "cgroup.procs")).split()]
        except FileNotFoundError:
            return []


def read_keyed(fs: CgroupFs, path: str, key: str) -> int | None:
    """A `key value` line of a flat-keyed file (memory.events, pids.events, oom_control, cpu.stat)."""
    try:
        text = fs.read(path)
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return int(parts[1])
    return None


def read_int(fs: CgroupFs, path: str) -> int | None:
    try:
        text = fs.read(path).strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def within(path: str, root: str) -> bool:
    """`path` is strictly below `root` (both absolute, normalised)."""
    return path.startswith(root.rstrip("/") + "/") and path != root


def root_mounts(mountinfo: str = "/proc/self/mountinfo") -> list[tuple[str, str, str]]:
    """(fstype, mount point, super options) of each mount of a filesystem's root; [] when unreadable."""
    try:
        with open(mountinfo) as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    out: list[tuple[str, str, str]] = []
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) > 4 and tail and fields[3] == "/":
            out.append((tail[0], fields[4], tail[2] if len(tail) > 2 else ""))
    return out
