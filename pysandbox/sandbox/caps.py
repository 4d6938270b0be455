"""Reducing the workload's capabilities in all five sets (bounding, permitted, effective, inheritable,
ambient) to what the profile's `capabilities` section gives the user it runs as.

`plan()` runs in the launcher; the other functions run in the workload and only make syscalls.
Semantics (what /proc/PID/status shows after execve), as Docker's and Podman's:
  root inside      CapBnd = CapPrm = CapEff = keep, CapInh = CapAmb = 0 (as Docker since 20.10.14,
                   CVE-2022-24769: a non-empty inheritable set lets file capabilities re-grant caps).
  non-root inside  CapBnd = keep; CapPrm = CapEff = CapInh = CapAmb = grant_non_root (the caps the user
                   granted explicitly, --cap-add; always within keep): raised in inheritable and
                   ambient so that they survive execve. Nothing granted (the default): no capability
                   at all, so `-u 1000` cannot setuid(0), chown or override file permissions
                   (Podman: a non-root user's Effective = Permitted = Ambient = its --cap-add list).
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
_capset = _libc.capset  # looked up here, in the process that forks PID 1s, not in each (see libc)


@record(frozen=True)
class CapPlan:
    keep: int  # bit mask: the bounding set
    last_cap: int  # highest capability number this kernel knows
    permitted: int  # bit mask: permitted = effective (keep for root, the granted ones otherwise)
    ambient: bool  # also raise `permitted` in inheritable + ambient (non-root target user)

    @property
    def inheritable(self) -> int:
        return self.permitted if self.ambient else 0


def plan(keep: tuple[str, ...], grant_non_root: tuple[str, ...], target_uid: int) -> CapPlan:
    try:
        bits = capabilities.mask(keep)
        granted = capabilities.mask(grant_non_root) & bits  # never beyond the bounding set
    except Exception as exc:
        raise SandboxError(f"profile capabilities: {exc}") from None
    if target_uid == 0:
        return CapPlan(keep=bits, last_cap=kernel_last_cap(), permitted=bits, ambient=False)
    return CapPlan(keep=bits, last_cap=kernel_last_cap(), permitted=granted, ambient=granted != 0)


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
    """Without PR_SET_KEEPCAPS a switch from uid 0 to non-zero empties the permitted set, and the
    capset that follows cannot raise anything back: set it when a non-root user is granted some."""
    try:
        prctl(PR_SET_KEEPCAPS, 1 if enable else 0)
    except OSError as exc:
        raise SandboxError(f"cannot set PR_SET_KEEPCAPS: {exc.strerror}") from None


def set_sets(p: CapPlan) -> None:
    """Permitted, effective, inheritable by capset(2); then the ambient set."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    for i in range(2):
        word = (p.permitted >> (32 * i)) & 0xFFFFFFFF
        inh = (p.inheritable >> (32 * i)) & 0xFFFFFFFF
        data[i] = _CapData(word, word, inh)
    if _capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"cannot set capabilities (capset): {errno.errorcode.get(err, err)}")
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
        if p.ambient:
            for cap in range(p.last_cap + 1):
                if p.permitted & (1 << cap):
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)
    except OSError as exc:
        raise SandboxError(f"cannot set the ambient capability set: {exc.strerror}") from None
