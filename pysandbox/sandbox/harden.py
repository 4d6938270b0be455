"""Privilege reduction of the workload: user and groups, capabilities, no_new_privs, rlimits, LSM, seccomp.

Interface used by the launcher:
  prepare(profile, uid, gid, groups, observe_denials=False) -> Prepared
      in the launcher, before fork: validates everything and compiles (or loads the cached) seccomp
      program, so that a profile that cannot be applied fails before anything starts.
  Prepared.keep_fds
      fds the launcher must leave open in the workload until apply() (only when observing denials).
  apply(prepared)
      in the workload, after mounts/chdir/fd closing, immediately before execve. Order: LSM exec
      label, rlimits, bounding set, user and groups, permitted/effective/inheritable/ambient sets
      (caps.py: a non-root user holds only capabilities.grant_non_root), no_new_privs, seccomp
      last (first, before the capability drop, when a profile disables no_new_privs: loading a
      filter without it needs CAP_SYS_ADMIN, as runc does).
  watch_denials(prepared, on_denial) -> DenialWatcher | None
      in the launcher, right after fork, when prepared with observe_denials=True: a daemon thread
      receives the seccomp listener from the workload and calls on_denial(seccomp.Denial) for each
      denied syscall (answering it with the profile's errno). The launcher MUST call this when it
      asked for observation, or the workload blocks on its first denied syscall.
      DenialWatcher.close() when the sandbox has ended (joins the thread).
The hand-off goes over `channel` (on `_socket`) and the thread is a `_thread` one: `socket` and
`threading` would add enum, selectors, signal and more to every `run --profile strict`.
Anything that cannot be applied raises SandboxError (exit 125) with the reason.
"""

from __future__ import annotations

import os

from pysandbox.policies.model import Profile
from pysandbox.record import record
from pysandbox.sandbox import caps, channel, lsm, rlimits, seccomp, threads
from pysandbox.types import SandboxError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable

# The profile parts this module enforces; `run` tells the user plainly about the rest.
ENFORCED: frozenset[str] = frozenset({"user", "capabilities", "no_new_privs", "rlimits", "seccomp", "lsm"})

PR_SET_NO_NEW_PRIVS = 38


@record
class Prepared:
    uid: int
    gid: int
    groups: tuple[int, ...]
    caps: caps.CapPlan
    no_new_privs: bool
    rlimits: tuple[rlimits.Setting, ...]
    lsm: lsm.LsmPlan
    seccomp: seccomp.Program | None
    notices: tuple[str, ...] = ()  # for the launcher to print (e.g. an rlimit lowered to what is possible)
    _handoff: tuple[channel.Sock, channel.Sock] | None = None  # (launcher end, workload end): the listener

    @property
    def keep_fds(self) -> tuple[int, ...]:
        return () if self._handoff is None else (self._handoff[1].fileno(),)

    @property
    def observing(self) -> bool:
        return self._handoff is not None


def prepare(
    profile: Profile, uid: int, gid: int, groups: tuple[int, ...] = (), *, observe_denials: bool = False
) -> Prepared:
    keep = profile.capabilities.keep
    cap_plan = caps.plan(keep, profile.capabilities.grant_non_root, uid)
    settings, notices = rlimits.resolve(profile.rlimits)
    lsm_plan = lsm.plan(profile.lsm)
    program = seccomp.plan(profile.seccomp.profile, keep, observe=observe_denials)
    if program is not None:
        notices += program.notices
    handoff = None
    if program is not None and program.observe:
        handoff = channel.pair()
        os.set_inheritable(handoff[1].fileno(), True)
    return Prepared(uid, gid, tuple(groups), cap_plan, profile.no_new_privs, settings, lsm_plan, program,
                    notices, handoff)  # fmt: skip


def apply(prepared: Prepared) -> None:
    p = prepared
    lsm.apply(p.lsm)
    rlimits.apply(p.rlimits)
    caps.drop_bounding(p.caps)
    if not p.no_new_privs:
        _load_seccomp(p)
    if p.uid != 0 and p.caps.permitted:  # capabilities granted to a non-root user
        caps.keep_across_setuid(True)
    _switch_user(p)
    caps.set_sets(p.caps)
    if p.no_new_privs:
        try:
            caps.prctl(PR_SET_NO_NEW_PRIVS, 1)
        except OSError as exc:
            raise SandboxError(f"cannot set no_new_privs: {exc.strerror}") from None
        _load_seccomp(p)


def _switch_user(p: Prepared) -> None:
    try:
        os.setgroups(list(p.groups))
    except PermissionError:
        # In a user namespace whose setgroups is "deny" (a rootless single-id mapping) the kernel
        # refuses setgroups altogether; the inherited groups cannot be dropped by anyone there.
        if p.groups or not _setgroups_denied():
            raise SandboxError(
                f"cannot set supplementary groups {list(p.groups)}: permission denied"
            ) from None
    try:
        os.setresgid(p.gid, p.gid, p.gid)
        os.setresuid(p.uid, p.uid, p.uid)
    except OSError as exc:
        raise SandboxError(
            f"cannot switch to uid {p.uid} gid {p.gid}: {exc.strerror} (is it mapped?)"
        ) from None


def _setgroups_denied() -> bool:
    try:
        with open("/proc/self/setgroups") as fh:
            return fh.read().strip() == "deny"
    except OSError:
        return False


def _load_seccomp(p: Prepared) -> None:
    if p.seccomp is None:
        return
    if p._handoff is None:
        seccomp.load(p.seccomp)
        return
    sock = p._handoff[1]
    listener = seccomp.load(p.seccomp)
    assert listener is not None
    # Only sendmsg runs between loading and the hand-off, and plan() checked the profile allows it.
    try:
        channel.send_fds(sock, b"L", [listener])
    except OSError as exc:
        raise SandboxError(f"cannot hand the seccomp listener to the launcher: {exc.strerror}") from None
    finally:
        os.close(listener)  # from here on a lost listener fails denied calls with ENOSYS
        sock.close()


class DenialWatcher:
    """Launcher side of denial observation: a thread serving the seccomp listener.

    The thread (threads.start) is not joined at interpreter exit, as a daemon `threading.Thread`
    is not; `close` joins it.
    """

    def __init__(self, prepared: Prepared, on_denial: Callable[[seccomp.Denial], None]) -> None:
        assert prepared._handoff is not None and prepared.seccomp is not None
        self._sock = prepared._handoff[0]
        prepared._handoff[1].close()  # so that recv sees EOF if the workload dies before the hand-off
        self._errno = prepared.seccomp.default_errno
        self._on_denial = on_denial
        self._stop_r, self._stop_w = os.pipe()
        self._done = threads.start(self._run)

    def _run(self) -> None:
        import select

        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        if any(fd == self._stop_r for fd, _ in poller.poll()):
            return
        try:
            _msg, fds = channel.recv_fds(self._sock, 16, 1)
        except OSError:
            return
        if not fds:
            return
        try:
            seccomp.serve_notifications(fds[0], self._errno, self._on_denial, self._stop_r)
        finally:
            os.close(fds[0])  # later notifications fail with ENOSYS: still denied

    def close(self, timeout: float = 2.0) -> None:
        try:
            os.write(self._stop_w, b"x")
        except OSError:
            pass
        threads.join(self._done, timeout)
        for fd in (self._stop_r, self._stop_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._sock.close()


def watch_denials(prepared: Prepared, on_denial: Callable[[seccomp.Denial], None]) -> DenialWatcher | None:
    if prepared._handoff is None:
        return None
    return DenialWatcher(prepared, on_denial)
