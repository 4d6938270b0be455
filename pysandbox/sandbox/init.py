"""PID 1 of the sandbox: builds the root, starts the workload, forwards signals, reaps, reports.

Runs in a forked copy of the launcher (no exec), so everything it needs is imported before the
fork: after pivot_root the host's Python library is out of reach. It is made non-dumpable, so a
workload without CAP_SYS_PTRACE cannot read its memory or fds through /proc/1.
"""

from __future__ import annotations

import errno
import os

from pysandbox.record import record
from pysandbox.sandbox import channel, harden, libc, mounts, network
from pysandbox.sandbox.mounts import FsPlan, MountError, Sources
from pysandbox.sandbox.spec import DEFAULT_PATH, FORWARDED_SIGNALS

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    import signal
    from typing import Any
else:
    import _signal as signal  # the signal module's C core: the module adds enums (enum: ~6 ms to import)

SIGNALS = tuple(getattr(signal, name) for name in FORWARDED_SIGNALS)
RESET_SIGNALS = (*SIGNALS, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD)


ARGV_MAX = 1 << 17  # bytes of a command sent with "S" (the datagram must fit the socket's buffer)
MUTED = 122  # PID 1's status when its seccomp filter refuses it write(2): it cannot say why itself


@record(frozen=True)
class InitPlan:
    argv: tuple[str, ...]  # empty: the command comes with "S" (a sandbox started ahead)
    env: dict[str, str]
    workdir: str
    hostname: str | None  # set when the sandbox has its own UTS namespace
    network: str | None  # mode passed to network.setup_inside when it has its own netns
    fs: FsPlan | None  # None without a mount namespace
    prepared: Any  # harden.Prepared
    tty: bool = False  # the workload gets a terminal of the sandbox's devpts (open_terminal)


def filter_stopped(how: str) -> str:
    """Why a launch failed when PID 1's own seccomp filter stopped it (`how`: what it did to PID 1)."""
    return (
        f"the profile's seccomp filter {how}: PID 1 takes on the workload's filter before it starts "
        "it, so the filter must allow read, write, mmap, clone, execve, wait4, kill, rt_sigaction, "
        "rt_sigreturn and exit_group (Docker's default profile does)"
    )


class _Workload:
    pid = 0
    pending: list[int] = []

    @classmethod
    def forward(cls, signum: int, _frame: object) -> None:
        if cls.pid:
            try:
                os.kill(cls.pid, signum)
            except ProcessLookupError:
                pass
        else:
            cls.pending.append(signum)


def send(sock: channel.Sock, message: str) -> None:
    """One datagram to the launcher (write(2): a seccomp profile may well refuse sendto)."""
    try:
        os.write(sock.fileno(), message.encode(errors="replace")[:4000])
    except OSError:
        pass


def run_init(sock: channel.Sock, plan: InitPlan, src: Sources, late_cgroup_ns: bool = False) -> int:
    """The body of PID 1; returns its exit code (the workload's, docker-style).

    PID 1 confines itself as the workload will be before it reports "R", so that after "S" only
    the spawn remains. late_cgroup_ns: the launcher moves us into our cgroup while we build the
    root, so the cgroup namespace (rooted where we are when we unshare it) and the confinement
    (which drops the capability unshare needs) come after "S"."""
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
    # a fork of the launcher: its command line (host paths, flags; an API caller's own arguments)
    # would be the workload's to read in /proc/1/cmdline
    libc.retitle(b"pysandbox-init")
    for sig in SIGNALS:
        signal.signal(sig, _Workload.forward)
    os.setsid()  # no controlling terminal: TIOCSTI cannot push input to the host's shell
    try:
        notes = _setup(plan, src)
    except MountError as exc:
        send(sock, f"F{exc}")
        return 125
    except OSError as exc:
        name = str(exc.filename or "").strip()  # libc's "move_mount " when the path is an fd's
        where = f" ({name})" if name else ""
        send(sock, f"Fcannot set up the sandbox: {exc.strerror}{where}")
        return 125
    terminal = None
    if plan.tty:
        try:
            terminal = open_terminal(sock, plan.prepared.uid)
        except OSError as exc:
            send(sock, f"Fcannot open a terminal in the sandbox for -t: {exc.strerror}: run without -t")
            return 125
    libc.prctl(libc.PR_SET_DUMPABLE, 0)
    if not late_cgroup_ns and not _confine(sock, plan):
        return 125
    for note in notes:
        send(sock, f"W{note}")
    try:
        os.write(sock.fileno(), b"R")
    except OSError:
        # refused by our own filter (the launcher being gone makes the code moot): were we to
        # wait for "S" as if nothing happened, the launcher would wait for "R" for ever
        os._exit(MUTED)
    try:  # read(2), as send: recvfrom may be refused by now
        go = os.read(sock.fileno(), 16 if plan.argv else ARGV_MAX + 1)
    except OSError as exc:
        send(sock, "F" + filter_stopped(f"refuses read(2) to the sandbox's init ({exc.strerror})"))
        return 125
    if go[:1] != b"S" or (len(go) > 1) == bool(plan.argv):
        return 125  # the launcher is gone or gave up
    argv: list[Any] = list(plan.argv) or go[1:].split(b"\0")
    if late_cgroup_ns:
        try:
            libc.unshare(libc.CLONE_NEWCGROUP)
        except OSError as exc:
            send(sock, f"Fcannot create the cgroup namespace: {exc.strerror}")
            return 125
        if not _confine(sock, plan):
            return 125
    return _start_and_reap(sock, plan, argv, terminal)


def open_terminal(sock: channel.Sock, uid: int) -> tuple[str, int]:
    """A pseudo-terminal of the sandbox's own devpts: its master goes to the launcher (tty.Relay),
    its slave to the workload's user, who opens it by path as a new session (its controlling
    terminal). Before confinement: a profile's filter may refuse sendmsg. Returns the slave's
    path and fd (close-on-exec), which we hold until the workload has it: with no slave open,
    the launcher's reads of the master would end at once (EIO)."""
    master, slave = os.openpty()
    try:
        path = os.ttyname(slave)
        os.fchown(slave, uid, -1)
        channel.send_fds(sock, b"T", [master])
    except BaseException:
        os.close(slave)
        raise
    finally:
        os.close(master)
    return path, slave


def _setup(plan: InitPlan, src: Sources) -> list[str]:
    """Namespaces' contents: lo, hostname, the root filesystem. Returns warnings for the launcher."""
    if plan.network is not None:
        network.setup_inside(plan.network)
    if plan.hostname is not None:
        libc.sethostname(plan.hostname)
    notes = mounts.build(plan.fs, src) if plan.fs is not None else []
    _ensure_workdir(plan.workdir)
    return notes


def _ensure_workdir(workdir: str) -> None:
    # os.stat and os.chdir take an int as a file descriptor (fchdir into an fd: runc's
    # CVE-2024-21626): only an absolute path string may get there.
    if not isinstance(workdir, str) or not workdir.startswith("/") or "\0" in workdir:
        raise MountError(f"working directory {workdir!r} is not an absolute path: give one as -w /DIR")
    try:
        os.stat(workdir)
        return
    except FileNotFoundError:
        pass
    try:
        os.makedirs(workdir, 0o755)
    except OSError as exc:
        raise MountError(
            f"working directory {workdir} does not exist in the sandbox and cannot be created: "
            f"{exc.strerror}: create it in the root filesystem, or give -w one that exists"
        ) from None


def _confine(sock: channel.Sock, plan: InitPlan) -> bool:
    """Enter the working directory and take on the workload's user, capabilities, no_new_privs
    and seccomp filter: the workload is spawned from here (vfork+exec: no copy of this process),
    so nothing Python-level ever runs in its process. False when that failed (reported)."""
    try:
        os.chdir(plan.workdir)
    except OSError as exc:
        send(sock, f"Fcannot enter the working directory {plan.workdir}: {exc.strerror}: "
                   "give -w a directory of the sandbox's root")  # fmt: skip
        return False
    os.environ["PATH"] = plan.env.get("PATH", DEFAULT_PATH)  # posix_spawnp searches our own PATH
    try:
        harden.apply(plan.prepared)
    except BaseException as exc:  # a restriction that cannot be applied: the workload must not start
        send(sock, f"Fcannot apply the profile's restrictions: {exc}")
        return False
    return True


def _start_and_reap(
    sock: channel.Sock, plan: InitPlan, argv: list[Any], terminal: tuple[str, int] | None
) -> int:
    """Spawn the workload and reap until it exits."""
    on_terminal: dict[str, Any] = {}
    if terminal is not None:  # setsid comes before the file actions: the open makes it the session's
        actions = [(os.POSIX_SPAWN_OPEN, 0, terminal[0], os.O_RDWR, 0), (os.POSIX_SPAWN_DUP2, 0, 1),
                   (os.POSIX_SPAWN_DUP2, 0, 2)]  # fmt: skip
        on_terminal = {"setsid": True, "file_actions": actions}
    try:
        pid = os.posix_spawnp(argv[0], argv, plan.env, setsigmask=(), setsigdef=RESET_SIGNALS, **on_terminal)
    except OSError as exc:
        err = exc.errno or errno.EIO
        send(sock, f"E{err} {exc.strerror}")
        return 127 if err in (errno.ENOENT, errno.ENOTDIR) else 126
    if terminal is not None:
        os.close(terminal[1])  # the workload has its own (vfork: posix_spawn returns after its exec)
    _Workload.pid = pid
    for signum in _Workload.pending:
        _Workload.forward(signum, None)
    try:
        code = os.waitstatus_to_exitcode(_wait_for(pid))
    except OSError as exc:  # the workload dies with us, as the pid namespace ends
        send(sock, "F" + filter_stopped(f"refuses wait4(2) to the sandbox's init ({exc.strerror})"))
        return 125
    signum = -code if code < 0 else 0
    code = 128 + signum if code < 0 else code
    send(sock, f"X{code} {signum}")
    return code


def _wait_for(pid: int) -> int:
    """Reap every child (orphans are re-parented to us) until the workload exits."""
    while True:
        try:
            child, status = os.wait()
        except ChildProcessError:
            return 0
        if child == pid:
            return status
