"""Reducing the workload's capabilities in all five sets (bounding, permitted, effective, inheritable,
ambient) to the profile's `capabilities.keep`.

`plan()` runs in the launcher; the other functions run in the workload and only make syscalls.
Semantics (what /proc/PID/status shows after execve):
  root inside      CapBnd = CapPrm = CapEff = keep, CapInh = CapAmb = 0 (as Docker since 20.10.14,
                   CVE-2022-24769: a non-empty inheritable set lets file capabilities re-grant caps).
  non-root inside  CapBnd = keep; keep is also raised in inheritable and ambient so that it survives
                   execve (without ambient, a non-root user loses every capability at exec and
                   --cap-add would be meaningless); nothing outside keep is reachable either way.
"""

from __future__ import annotations

import ctypes
import errno

from pysandbox.policies import capabilities
from pysandbox.record import record
from pysandbox.types import SandboxError

PR_CAPBSET_DROP = 24
PR_SET_KEEPCAPS = 8
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.prctl.restype = ctypes.c_int


@record(frozen=True)
class CapPlan:
    keep: int  # bit mask
    last_cap: int  # highest capability number this kernel knows
    ambient: bool  # also raise `keep` in inheritable + ambient (non-root target user)

    @property
    def inheritable(self) -> int:
        return self.keep if self.ambient else 0


def plan(keep: tuple[str, ...], target_uid: int) -> CapPlan:
    try:
        bits = capabilities.mask(keep)
    except Exception as exc:
        raise SandboxError(f"profile capabilities: {exc}") from None
    return CapPlan(keep=bits, last_cap=kernel_last_cap(), ambient=target_uid != 0 and bits != 0)


def kernel_last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return len(capabilities.NAMES) - 1


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> None:
    if _libc.prctl(option, arg2, arg3, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}, {arg2}): {errno.errorcode.get(err, err)}")


def drop_bounding(p: CapPlan) -> None:
    """Needs CAP_SETPCAP, so it runs before the user switch and the capset."""
    for cap in range(p.last_cap + 1):
        if not p.keep & (1 << cap):
            try:
                prctl(PR_CAPBSET_DROP, cap)
            except OSError as exc:
                if exc.errno != errno.EINVAL:  # EINVAL: a capability this kernel does not have
                    raise SandboxError(
                        f"cannot drop capability {cap} from the bounding set: {exc.strerror}"
                    ) from None


def keep_across_setuid(enable: bool) -> None:
    """Without PR_SET_KEEPCAPS a switch from uid 0 to non-zero empties the permitted set."""
    try:
        prctl(PR_SET_KEEPCAPS, 1 if enable else 0)
    except OSError as exc:
        raise SandboxError(f"cannot set PR_SET_KEEPCAPS: {exc.strerror}") from None


def set_sets(p: CapPlan) -> None:
    """Permitted, effective, inheritable by capset(2); then the ambient set."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    for i in range(2):
        word = (p.keep >> (32 * i)) & 0xFFFFFFFF
        inh = (p.inheritable >> (32 * i)) & 0xFFFFFFFF
        data[i] = _CapData(word, word, inh)
    if _libc.capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"cannot set capabilities (capset): {errno.errorcode.get(err, err)}")
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
        if p.ambient:
            for cap in range(p.last_cap + 1):
                if p.keep & (1 << cap):
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)
    except OSError as exc:
        raise SandboxError(f"cannot set the ambient capability set: {exc.strerror}") from None
