"""Optional LSM confinement: an SELinux exec label (through libselinux) or an AppArmor profile.

Both take effect at the workload's execve. Each is used only when the host has that LSM enabled;
a profile that asks for one on a host without it does not start (fail closed, exit 125).
"""

from __future__ import annotations

import ctypes
import os

from pysandbox.policies.model import Lsm
from pysandbox.record import record
from pysandbox.types import SandboxError

SELINUX_FS = "/sys/fs/selinux"
APPARMOR_ENABLED = "/sys/module/apparmor/parameters/enabled"
APPARMOR_PROFILES = "/sys/kernel/security/apparmor/profiles"
# AppArmor's own exec attribute (Linux >= 5.8, stacking-safe), then the shared legacy one.
APPARMOR_EXEC_ATTRS = ("/proc/thread-self/attr/apparmor/exec", "/proc/thread-self/attr/exec")


@record(frozen=True)
class LsmPlan:
    selinux_label: str | None = None
    apparmor_profile: str | None = None


def selinux_enabled() -> bool:
    """libselinux's is_selinux_enabled(); False when the library or selinuxfs is missing."""
    if not os.path.isdir(SELINUX_FS):
        return False
    try:
        lib = ctypes.CDLL("libselinux.so.1")
    except OSError:
        return False
    return bool(lib.is_selinux_enabled() == 1)


def apparmor_enabled() -> bool:
    try:
        with open(APPARMOR_ENABLED) as fh:
            return fh.read().strip() == "Y"
    except OSError:
        return False


def apparmor_loaded(name: str) -> bool:
    try:
        with open(APPARMOR_PROFILES) as fh:
            return any(line.rsplit(" (", 1)[0] == name for line in fh)
    except OSError:
        return True  # securityfs not readable here (rootless): let the kernel decide at exec time


def plan(lsm: Lsm) -> LsmPlan:
    label = lsm.selinux_label or None
    profile = lsm.apparmor_profile or None
    if profile == "unconfined":
        profile = None  # Docker's `apparmor=unconfined`: no AppArmor profile at all
    if label is not None and not selinux_enabled():
        raise SandboxError(
            f"SELinux label {label!r} requested but SELinux is not available here (not enabled on this "
            "host): remove lsm.selinux_label from the profile or run on a host with SELinux enabled"
        )
    if profile is not None:
        if not apparmor_enabled():
            raise SandboxError(
                f"AppArmor profile {profile!r} requested but AppArmor is not available here (not enabled on "
                "this host): remove lsm.apparmor_profile from the profile or run on a host with AppArmor "
                "enabled"
            )
        if not apparmor_loaded(profile):
            raise SandboxError(
                f"AppArmor profile {profile!r} is not loaded: load it with apparmor_parser -r FILE"
            )
    return LsmPlan(label, profile)


def apply(p: LsmPlan) -> None:
    if p.selinux_label is not None:
        _set_selinux_exec(p.selinux_label)
    if p.apparmor_profile is not None:
        _set_apparmor_exec(p.apparmor_profile)


def _set_selinux_exec(label: str) -> None:
    lib = ctypes.CDLL("libselinux.so.1", use_errno=True)
    lib.setexeccon.argtypes = [ctypes.c_char_p]
    if lib.setexeccon(label.encode()) != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"cannot set SELinux exec label {label!r}: {os.strerror(err)}")


def _set_apparmor_exec(profile: str) -> None:
    last: OSError | None = None
    for attr in APPARMOR_EXEC_ATTRS:
        try:
            with open(attr, "w") as fh:
                fh.write(f"exec {profile}")
            return
        except OSError as exc:
            last = exc
    reason = last.strerror if last else "no exec attribute"
    raise SandboxError(f"cannot set AppArmor profile {profile!r} for exec: {reason}")
