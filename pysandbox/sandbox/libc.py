"""The kernel calls Python 3.11 lacks (unshare, setns, mount API, openat2, ...), through ctypes.

Every wrapper raises OSError(errno, strerror, what) on failure, like the functions of `os`.
"""

from __future__ import annotations

import ctypes
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MNT_DETACH = 2

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_NO_AUTOMOUNT = 0x800
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000

OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = os.O_CLOEXEC

MOVE_MOUNT_F_EMPTY_PATH = 0x04
MOVE_MOUNT_T_EMPTY_PATH = 0x40

FSOPEN_CLOEXEC = 1
FSCONFIG_SET_FLAG = 0
FSCONFIG_SET_STRING = 1
FSCONFIG_SET_FD = 5
FSCONFIG_CMD_CREATE = 6
FSMOUNT_CLOEXEC = 1

MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
MOUNT_ATTR_IDMAP = 0x100000

RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38

# Old syscalls differ by architecture; those from open_tree (428) on share one table.
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
SYS_OPEN_TREE = 428
SYS_MOVE_MOUNT = 429
SYS_FSOPEN = 430
SYS_FSCONFIG = 431
SYS_FSMOUNT = 432
SYS_CLOSE_RANGE = 436
SYS_OPENAT2 = 437
SYS_MOUNT_SETATTR = 442

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
# ctypes looks a function up (dlsym) and makes its object at its first call: here, in the process
# that forks PID 1s, rather than in every PID 1, where it costs copy-on-write faults each time
for _name in ("mount", "umount2", "unshare", "setns", "sethostname", "prctl"):
    getattr(_libc, _name)


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), what)
    return result


def _b(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int = 0) -> None:
    _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    result = _libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data))
    _check(result, f"mount {target}")


def umount2(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(_b(target), ctypes.c_int(flags)), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    number = _PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(38, "pivot_root: unsupported architecture", os.uname().machine)
    _check(_syscall(ctypes.c_long(number), _b(new_root), _b(put_old)), "pivot_root")


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc.sethostname(raw, ctypes.c_size_t(len(raw))), "sethostname")


def prctl(option: int, arg2: int = 0) -> int:
    zero = ctypes.c_ulong(0)
    return _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), zero, zero, zero), "prctl")


def open_tree(dirfd: int, path: str, flags: int) -> int:
    result = _syscall(ctypes.c_long(SYS_OPEN_TREE), ctypes.c_int(dirfd), _b(path), ctypes.c_uint(flags))
    return _check(result, f"open_tree {path}")


def move_mount(from_fd: int, from_path: str, to_fd: int, to_path: str, flags: int) -> None:
    result = _syscall(
        ctypes.c_long(SYS_MOVE_MOUNT),
        ctypes.c_int(from_fd),
        _b(from_path),
        ctypes.c_int(to_fd),
        _b(to_path),
        ctypes.c_uint(flags),
    )
    _check(result, f"move_mount {to_path}")


def mount_setattr(
    dirfd: int,
    path: str,
    flags: int,
    attr_set: int = 0,
    attr_clr: int = 0,
    propagation: int = 0,
    userns_fd: int = 0,
) -> None:
    attr = _MountAttr(attr_set, attr_clr, propagation, userns_fd)
    result = _syscall(
        ctypes.c_long(SYS_MOUNT_SETATTR),
        ctypes.c_int(dirfd),
        _b(path),
        ctypes.c_uint(flags),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    _check(result, f"mount_setattr {path}")


def fsopen(fstype: str, flags: int = FSOPEN_CLOEXEC) -> int:
    return _check(_syscall(ctypes.c_long(SYS_FSOPEN), _b(fstype), ctypes.c_uint(flags)), f"fsopen {fstype}")


def fsconfig(fd: int, cmd: int, key: str | None = None, value: str | None = None, aux: int = 0) -> None:
    result = _syscall(
        ctypes.c_long(SYS_FSCONFIG),
        ctypes.c_int(fd),
        ctypes.c_uint(cmd),
        _b(key),
        _b(value),
        ctypes.c_int(aux),
    )
    _check(result, f"fsconfig {key or ''}".strip())


def fsmount(fd: int, attrs: int, flags: int = FSMOUNT_CLOEXEC) -> int:
    result = _syscall(
        ctypes.c_long(SYS_FSMOUNT), ctypes.c_int(fd), ctypes.c_uint(flags), ctypes.c_uint(attrs)
    )
    return _check(result, "fsmount")


def openat2(dirfd: int, path: str, flags: int, resolve: int, mode: int = 0) -> int:
    how = _OpenHow(flags | os.O_CLOEXEC, mode, resolve)
    result = _syscall(
        ctypes.c_long(SYS_OPENAT2),
        ctypes.c_int(dirfd),
        _b(path),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    return _check(result, f"open {path}")


def close_range(first: int, last: int = 0xFFFFFFFF) -> None:
    result = _syscall(
        ctypes.c_long(SYS_CLOSE_RANGE), ctypes.c_uint(first), ctypes.c_uint(last), ctypes.c_uint(0)
    )
    _check(result, "close_range")


def close_fds_except(keep: tuple[int, ...] | list[int]) -> None:
    """Close every fd from 3 up except those in `keep`."""
    first = 3
    for fd in sorted(set(k for k in keep if k >= 3)):
        if fd > first:
            close_range(first, fd - 1)
        first = fd + 1
    close_range(first)


_CLONE = {"x86_64": 56, "aarch64": 220, "riscv64": 220, "ppc64le": 120, "s390x": 120}
_pylibc = ctypes.PyDLL(None, use_errno=True)  # calls keep the GIL held, as os.fork does
for _name in ("PyOS_BeforeFork", "PyOS_AfterFork_Parent", "PyOS_AfterFork_Child"):
    getattr(ctypes.pythonapi, _name)  # the child's is otherwise looked up in each child


def fork_into_namespaces(flags: int) -> int:
    """os.fork() into new namespaces: clone(2) with `flags`, wrapped like os.fork.

    The child comes back as PID 1 of a new pid namespace (CLONE_NEWPID) without an intermediate
    process. Only safe in a single-threaded process: unlike glibc's fork, a raw clone does not
    take malloc's locks or update the thread's cached tid (callers check the thread count).
    """
    number = _CLONE.get(os.uname().machine)
    if number is None:
        raise OSError(38, "clone: unsupported architecture", os.uname().machine)
    api = ctypes.pythonapi
    api.PyOS_BeforeFork()
    pid = _pylibc.syscall(
        ctypes.c_long(number), ctypes.c_ulong(flags | 17), None, None, None, None
    )  # SIGCHLD
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, os.strerror(err), "clone")
    return int(pid)


def thread_count() -> int:
    return int(_self_stat()[17])


_ARGS_AREA: list[int] = []  # arg_start, arg_end of this process, once read: a fork has the same


def _self_stat() -> list[bytes]:
    """/proc/self/stat's fields from the state on (field 3 of proc_pid_stat(5) is index 0)."""
    with open("/proc/self/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    if not _ARGS_AREA and len(fields) > 46:
        _ARGS_AREA[:] = int(fields[45]), int(fields[46])  # fields 48 and 49
    return fields


def retitle(title: bytes) -> None:
    """Overwrite this process's argument area, which /proc/PID/cmdline shows to anyone who can see
    the process, with `title` (as setproctitle does); nothing when the area cannot be found. The
    process that forks PID 1s has read where it is before it forks (the launcher's thread_count,
    the fork server's own retitle): a fresh fork pays a copy-on-write fault for each page it
    touches, ~0.1 ms for this read."""
    if not _ARGS_AREA:
        try:
            _self_stat()
        except (OSError, IndexError, ValueError):
            pass
    start, end = _ARGS_AREA or (0, 0)
    if 0 < start < end:
        ctypes.memset(start, 0, end - start)
        ctypes.memmove(start, title, min(len(title), end - start - 1))
