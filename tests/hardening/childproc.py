"""Run hardening steps in a forked child and bring its observations back (pickled through a pipe).

The child is a real process: it gets the real filter, capabilities and limits; the test process is
never touched. `rootless=True` first becomes the unprivileged test user and enters a new user
namespace mapping that user to root, as `pysandbox run` does for a rootless sandbox.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import traceback
from collections.abc import Callable
from typing import Any

CLONE_NEWUSER = 0x10000000
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def sys_call(nr: int, *args: int) -> int:
    """A raw syscall; returns the result or -errno."""
    rc = libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))
    return int(rc) if rc >= 0 else -ctypes.get_errno()


def enter_rootless_userns(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: a uid change made /proc/self root's
    if libc.unshare(CLONE_NEWUSER) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER)")
    with open("/proc/self/setgroups", "w") as fh:
        fh.write("deny")
    with open("/proc/self/uid_map", "w") as fh:
        fh.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as fh:
        fh.write(f"0 {gid} 1")


def in_child(fn: Callable[[], Any], rootless: tuple[int, int] | None = None, timeout: float = 30) -> Any:
    """fn's return value, or re-raise (as RuntimeError) what it raised in the child."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setsid()  # no controlling terminal: vhangup/TIOCSTI probes cannot reach the test's tty
            if rootless is not None:
                enter_rootless_userns(*rootless)
            result: Any = ("ok", fn())
        except BaseException as exc:
            result = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        try:
            os.write(w, pickle.dumps(result))
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(f"child died without a result: wait status {status:#x}")
    kind, value = pickle.loads(data)
    if kind == "error":
        raise RuntimeError(value)
    return value


def status_fields(text: str) -> dict[str, str]:
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}
