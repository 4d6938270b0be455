"""One file of an image's root as the overlay of its layers shows it, read on the host without
leaving the layers: the launcher reads an image's /etc/passwd and /etc/group this way (as root,
often) to resolve its USER before anything is mounted."""

from __future__ import annotations

import os
import stat

ETC_MAX = 4 << 20  # bytes: an image's /etc/passwd or /etc/group above this is refused
_MAX_SYMLINKS = 40  # as the kernel's path walk
_OPAQUE = "user.overlay.opaque"  # what the overlay honours with its userxattr option (runtime.py)


class LayerReadError(Exception):
    """A file of the image that cannot be read safely (why, as "its /etc/passwd is ...")."""


def read_file(layers: tuple[str, ...], path: str) -> bytes | None:
    """`path` of the image's root as the overlay of `layers` (top first) shows it, None if absent.

    Read on the host (as root, often), so nothing may lead out of the layers: each directory is
    opened below the last without following symlinks, the image's symlinks are resolved in the
    image (an absolute one starts again at the image's root, and ".." stops there), whiteouts
    (0/0 character devices) and opaque directories hide what lies below as in the overlay, and
    only a regular file of at most ETC_MAX bytes is read."""
    opened: list[int] = []
    try:
        try:
            return _read_merged(layers, path, opened)
        except OSError as exc:
            raise LayerReadError(f"its {path} cannot be read: {exc.strerror}") from None
    finally:
        for fd in opened:
            os.close(fd)


def _read_merged(layers: tuple[str, ...], path: str, opened: list[int]) -> bytes | None:
    def opendir(name: str, dir_fd: int | None = None) -> int:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        opened.append(fd)
        return fd

    root = [opendir(layer) for layer in layers]
    stack = [root]  # the directories walked so far: each is its layers' fds, top first
    todo = [part for part in reversed(path.split("/")) if part]
    hops = 0
    while todo:
        part = todo.pop()
        if part == ".":
            continue
        if part == "..":
            if len(stack) > 1:
                stack.pop()
            continue
        found = _lookup_merged(stack[-1], part)
        if found is None:
            return None
        dir_fd, st = found
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > _MAX_SYMLINKS:
                raise LayerReadError(f"its {path} has too many levels of symbolic links")
            target = os.readlink(part, dir_fd=dir_fd)
            if not target:
                return None  # the kernel finds nothing behind an empty symlink (ENOENT)
            if target.startswith("/"):
                del stack[1:]
            todo.extend(p for p in reversed(target.split("/")) if p)
        elif stat.S_ISDIR(st.st_mode):
            subdirs = []
            for fd in stack[-1][stack[-1].index(dir_fd) :]:
                try:
                    below = os.stat(part, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if not stat.S_ISDIR(below.st_mode):
                    break  # a whiteout or a file hides this name in the layers below
                subdirs.append(opendir(part, fd))
                if _is_opaque(subdirs[-1]):
                    break
            stack.append(subdirs)
        elif todo:
            return None  # a file where the path needs a directory (ENOTDIR): absent
        elif not stat.S_ISREG(st.st_mode):
            raise LayerReadError(f"its {path} is not a regular file")
        else:
            return _read_capped(part, dir_fd, path)
    raise LayerReadError(f"its {path} is a directory")


def _lookup_merged(layers: list[int], name: str) -> tuple[int, os.stat_result] | None:
    """The layer directory (fd) that shows `name` in the merged directory, and its lstat."""
    for fd in layers:
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            return None  # a whiteout
        return fd, st
    return None


def _is_opaque(fd: int) -> bool:
    try:
        return os.getxattr(fd, _OPAQUE) == b"y"
    except OSError:
        return False


def _read_capped(name: str, dir_fd: int, path: str) -> bytes:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    fd = os.open(name, flags, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LayerReadError(f"its {path} is not a regular file")
        data = os.read(fd, ETC_MAX + 1)
        while len(data) <= ETC_MAX:
            more = os.read(fd, ETC_MAX + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    if len(data) > ETC_MAX:
        raise LayerReadError(f"its {path} is larger than {ETC_MAX >> 20} MiB")
    return data
