"""The fork/unshare protocol between the launcher (L), the namespace holder (A) and PID 1 (B).

  L forks A.  A: PR_SET_PDEATHSIG, moves itself into the cgroup (v1 `tasks` files L opened;
  otherwise L adds it before "G"), closes every inherited fd, unshares the user, mount, pid, net,
  ipc and uts namespaces, says "U".  L writes uid_map/gid_map (newuidmap/newgidmap for
  subordinate ranges), attaches the network, and (as root) sends the idmapped rootfs and the bind
  sources as detached mount trees with "G".  A becomes root inside, unshares the cgroup
  namespace, forks B (PID 1 of the new pid namespace) and reports B's pid.  B builds the root,
  pivots, confines itself as the workload will be (user, capabilities, seccomp), says "R" (after
  "W warning" lines, if any); L records `create` and `start` durably and answers "S"; B spawns
  the workload C, reaps, forwards signals, and reports "X status signal" (or "E errno" when exec
  failed).

  A single-threaded L clones B directly into the namespaces (no A); a fork server (forkserver)
  may clone it instead of L. A sandbox started ahead (prewarm) has no command in its plan: "S"
  carries it, NUL-separated.

Messages are short datagrams on one SOCK_SEQPACKET pair; "F reason" at any point is a setup
failure (exit 125). A and B die with their parent (PR_SET_PDEATHSIG), and everything else in the
sandbox dies with B (pid namespace teardown).
"""

from __future__ import annotations

import errno
import gc
import os
import sys

from pysandbox.record import record
from pysandbox.sandbox import channel, idmap, libc, mounts, names, threads
from pysandbox.sandbox.idmap import IdMap
from pysandbox.sandbox.init import ARGV_MAX, MUTED, SIGNALS, InitPlan, filter_stopped, run_init
from pysandbox.sandbox.mounts import FsPlan, Sources
from pysandbox.types import SandboxError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    import signal
    from collections.abc import Callable
    from types import FrameType
    from typing import Any

    from pysandbox.sandbox.forkserver import ForkServer
else:
    import _signal as signal  # the signal module's C core: the module adds enums (enum: ~6 ms to import)

_NS_FLAGS = (
    ("user", libc.CLONE_NEWUSER),
    ("mount", libc.CLONE_NEWNS),
    ("pid", libc.CLONE_NEWPID),
    ("net", libc.CLONE_NEWNET),
    ("ipc", libc.CLONE_NEWIPC),
    ("uts", libc.CLONE_NEWUTS),
)


class Result:
    """How a sandbox ended. `status` is docker-style: the workload's exit code, 128+N when it was
    killed by signal N (then `signal` is N), 126/127 when it could not be executed (`error` says why)."""

    def __init__(
        self,
        status: int,
        signal: int | None,
        name: str,
        sandbox_id: str,
        duration: float,
        error: str | None = None,
        command: tuple[str, ...] = (),
    ) -> None:
        self.status = status
        self.signal = signal
        self.name = name
        self.sandbox_id = sandbox_id
        self.duration = duration  # seconds
        self.error = error
        self.command = command  # what PID 1 executed (ENTRYPOINT and CMD applied)
        self.kept: str | None = None  # the overlay upper dir kept with keep=True
        self.notes: list[str] = []  # limit hits to tell the user
        self.stats: Any = None  # cgroups.CgroupStats, when the sandbox had a cgroup

    def __repr__(self) -> str:
        return f"Result(status={self.status}, signal={self.signal}, name={self.name!r}, error={self.error!r})"


@record(frozen=True)
class Launch:
    """Everything the children need, computed in the launcher before the first fork."""

    flags: int  # namespaces A unshares (cgroup comes later)
    cgroup_ns: bool
    idmap: IdMap | None  # None: the host's user namespace
    root_mode: bool  # launcher is root with a user namespace: it opens and idmaps the trees
    lease: names.Lease
    init: InitPlan
    keep_dir: str | None
    stdio: tuple[int, int, int]
    parent: int
    cgroup_tasks: tuple[int, ...] = ()  # Cgroup.open_self_join: the first child moves itself in
    launcher_joins: bool = False  # the launcher moves PID 1 into its cgroup (Cgroup.add)


class _Forwarder:
    """Forwards the usual termination signals from the launcher to the sandbox's PID 1."""

    def __init__(self) -> None:
        self.target = 0
        self.pending: list[int] = []
        self.saved: dict[int, Any] = {}

    def install(self) -> None:
        for sig in SIGNALS:
            self.saved[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        self.saved.clear()

    def set_target(self, pid: int) -> None:
        self.target = pid
        for sig in self.pending:
            self._handle(sig, None)
        self.pending.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if not self.target:
            self.pending.append(signum)
            return
        try:
            os.kill(self.target, signum)
        except ProcessLookupError:
            pass


def unshare_failure(exc: OSError, flags: int) -> str:
    """A one-line reason for a refused unshare, naming the sysctl that explains it."""
    checks = (
        ("/proc/sys/kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone=0",
         "sysctl -w kernel.unprivileged_userns_clone=1"),
        ("/proc/sys/user/max_user_namespaces", "0", "user.max_user_namespaces=0",
         "sysctl -w user.max_user_namespaces=15000"),
        ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
         "kernel.apparmor_restrict_unprivileged_userns=1",
         "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for pysandbox"),
    )  # fmt: skip
    if flags & libc.CLONE_NEWUSER:
        for path, bad, what, fix in checks:
            try:
                with open(path) as fh:
                    value = fh.read().strip()
            except OSError:
                continue
            if value == bad:
                return f"user namespaces are disabled: sysctl {what}: enable them with `{fix}`"
        if exc.errno == 28:  # ENOSPC
            return "too many user namespaces: raise sysctl user.max_user_namespaces"
    return (
        f"the kernel refused to create the sandbox's namespaces: {exc.strerror}: "
        "check that namespaces are enabled"
    )


def _fail(sock: channel.Sock, message: str) -> None:
    try:
        sock.send(("F" + message).encode(errors="replace")[:4000])
    except OSError:
        pass


def _detach(sock: channel.Sock, launch: Launch) -> None:
    """First steps of the sandbox side: die with the launcher, join the cgroup, keep only stdio
    and our socket."""
    gc.disable()  # a collected file object of the caller could close one of our fds
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
    join_cgroup(launch.cgroup_tasks)
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)  # the launcher forwards these to PID 1, which handles them
    if launch.stdio != (0, 1, 2):
        copies = [os.dup(fd) for fd in launch.stdio]
        for target, fd in enumerate(copies):
            os.dup2(fd, target)
    libc.close_fds_except([sock.fileno(), *getattr(launch.init.prepared, "keep_fds", ())])


def join_cgroup(tasks: tuple[int, ...]) -> None:
    """Moves this process, single-threaded as a fork's child is, into the sandbox's cgroup: "0"
    to each `tasks` file the launcher opened (Cgroup.open_self_join). Raises SandboxError."""
    try:
        for fd in tasks:
            os.write(fd, b"0")
    except OSError as exc:
        raise SandboxError(f"cannot move the sandbox into its cgroup: {exc.strerror}") from None
    finally:
        for fd in tasks:
            os.close(fd)


def _prepare(sock: channel.Sock, launch: Launch, cgroup_ns: bool) -> Sources | None:
    """After "G": the mount sources, root inside, the cgroup namespace (when `cgroup_ns`: A,
    which has joined its cgroup by now). None on failure (reported)."""
    try:
        msg, fds = channel.recv_fds(sock, 16, 64)
    except OSError:
        return None
    if msg != b"G":
        return None  # the launcher gave up (or died: PR_SET_PDEATHSIG is on its way)
    try:
        src = _open_sources(launch, fds)
        _become_root(launch)
        if cgroup_ns:
            libc.unshare(libc.CLONE_NEWCGROUP)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        _fail(sock, f"cannot prepare the sandbox: {exc.strerror}{where}")
        return None
    return src


def run_child(sock: channel.Sock, launch: Launch, direct: bool = True) -> None:
    """The sandbox side of a launch, in the forked child (PID 1 itself when `direct`, else A);
    never returns."""
    code = 125
    try:
        code = _child_direct(sock, launch) if direct else _child_a(sock, launch)
    except SandboxError as exc:
        _fail(sock, str(exc))
    except BaseException as exc:
        _fail(sock, f"sandbox setup failed: {type(exc).__name__}: {exc}")
    finally:
        os._exit(code)


def _child_direct(sock: channel.Sock, launch: Launch) -> int:
    """PID 1 cloned straight into the new namespaces (single-threaded launcher)."""
    _detach(sock, launch)
    # when the launcher moves us into our cgroup, it does so while we build the root: the cgroup
    # namespace, rooted where we are when we unshare it, comes after "S"
    late = launch.cgroup_ns and launch.launcher_joins
    src = _prepare(sock, launch, cgroup_ns=launch.cgroup_ns and not late)
    if src is None:
        return 125
    return run_init(sock, launch.init, src, late_cgroup_ns=late)


def _child_a(sock: channel.Sock, launch: Launch) -> int:
    """A (multi-threaded launcher): unshares, becomes root inside, forks PID 1 and waits for it."""
    _detach(sock, launch)
    if os.getppid() != launch.parent:
        return 125
    try:
        libc.unshare(launch.flags)
    except OSError as exc:
        _fail(sock, unshare_failure(exc, launch.flags))
        return 125
    sock.send(b"U")
    src = _prepare(sock, launch, cgroup_ns=launch.cgroup_ns)
    if src is None:
        return 125
    pid = os.fork()
    if pid == 0:
        code = 125
        try:
            code = run_init(sock, launch.init, src)
        except BaseException as exc:
            _fail(sock, f"sandbox init failed: {type(exc).__name__}: {exc}")
        finally:
            os._exit(code)
    sock.send(f"P{pid}".encode())
    sock.close()
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            return 125
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _open_sources(launch: Launch, fds: list[int]) -> Sources:
    fs = launch.init.fs
    src = Sources()
    if fs is None:
        return src
    src.staging = os.open(launch.lease.directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    if launch.keep_dir is not None:
        src.upper = os.open(os.path.join(launch.keep_dir, "upper"), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        src.work = os.open(os.path.join(launch.keep_dir, "work"), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    if launch.root_mode:
        n = len(fs.layers)
        src.layers, src.binds = fds[:n], fds[n:]
    else:
        src.layers, src.binds = mounts.open_sources(fs)
    return src


def _become_root(launch: Launch) -> None:
    m = launch.idmap
    if m is None or m.kind == "single":
        return  # single mapping: we already are the one mapped id; setgroups is denied
    os.setgroups([])  # drop the host's supplementary groups
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)  # a credential change cleared it


class Runner:
    """The launcher's side of one launch (L)."""

    def __init__(
        self,
        launch: Launch,
        forward: bool,
        attach: Callable[[int], None],
        forked: Callable[[], None],
        warn: Callable[[str], None],
        join: Callable[[int], None] | None = None,
        meanwhile: Callable[[], None] = lambda: None,
        server: ForkServer | None = None,
    ) -> None:
        self.launch = launch
        self.warn = warn  # warnings PID 1 reports during set-up
        self.forked = forked  # right after the first fork (harden.watch_denials)
        self.forwarder = _Forwarder() if forward else None
        self.attach = attach  # the network, given A's pid, before A goes on
        # The cgroup: as soon as PID 1 exists, but a v1 migration waits for an RCU grace period
        # (~15-20 ms here), so PID 1 builds its root meanwhile when it is our child, and a thread
        # waits for it while we do `meanwhile`; A, which forks PID 1 once it has "G", joins before.
        self.join = join
        # Launcher work that only the workload's start must wait for (loading the audit log's
        # writer), done while PID 1 builds the root rather than before the fork.
        self.meanwhile = meanwhile
        self.direct = False
        self.pidfd = -1  # PID 1's, when the server forked it
        self.server = server  # forks PID 1 instead of this process (forkserver)
        self.report: channel.Sock | None = None  # the server's report on that PID 1
        self.pid_a = 0
        self.pid_b = 0
        self.sock: channel.Sock | None = None
        self.relay: Any = None  # tty.Relay, once PID 1 has sent the terminal's master (-t)

    def start(self) -> None:
        """Forks PID 1 (or A), or has the fork server fork it, and configures it up to "G": it
        then builds its root on its own."""
        parent, child = channel.pair()
        self.sock = parent
        sys.stdout.flush()
        sys.stderr.flush()
        if self.server is not None:
            self.report = self.server.request(self.launch, child)
            child.close()
            self.direct = True
            self._forked(self.server.started(self.report))
            return
        else:
            # Single-threaded: clone PID 1 straight into the namespaces. Otherwise fork A, which
            # unshares and forks PID 1 (glibc's fork is the only safe one next to other threads).
            direct = self.direct = libc.thread_count() == 1
            try:
                pid = libc.fork_into_namespaces(self.launch.flags) if direct else os.fork()
            except OSError as exc:
                raise SandboxError(unshare_failure(exc, self.launch.flags)) from None
            if pid == 0:
                parent.close()
                run_child(child, self.launch, direct)
        child.close()
        self._forked(pid)

    def _forked(self, pid: int) -> None:
        self.pid_a = pid
        if self.server is not None:
            # the server's child: its exit is watched through a pidfd (wait), opened while it
            # waits for "G", so that the pid cannot have been reused yet
            self.pidfd = os.pidfd_open(pid)
        self.forked()
        if self.direct:
            self.pid_b = pid
        else:
            msg = self._recv()
            if msg != b"U":
                self._unexpected(msg)
        self._configure(pid)

    def finish(
        self,
        before_start: Callable[[int], None],
        argv: tuple[str, ...] = (),
        after_start: Callable[[], None] = lambda: None,
    ) -> tuple[int, int | None, str | None]:
        """After `start`: runs the sandbox to the end; returns (status, signal, exec error).
        argv: the command, when the plan has none (a sandbox started ahead); SandboxError before
        anything is sent when it cannot travel with "S"."""
        go = b"S" + _encode_argv(argv) if argv else b"S"
        if self.forwarder is not None:
            self.forwarder.install()
            if self.pid_b:
                self.forwarder.set_target(self.pid_b)
        sent = False
        while True:  # B may report "R" before A reports B's pid: take them in any order
            msg = self._recv()
            kind, body = msg[:1], msg[1:].decode(errors="replace")
            if kind == b"P":
                self.pid_b = int(body)
                if self.forwarder is not None:
                    self.forwarder.set_target(self.pid_b)
            elif kind == b"W":
                self.warn(body)
            elif kind == b"T" and self.relay is not None:
                pass  # the terminal's master, taken by _recv
            elif kind == b"R":
                # killed since it said "R" (while it waited, started ahead)? A, when B's pid has not
                # come yet: A exits with B
                if not _running(self.pid_b or self.pid_a):
                    self._unexpected(self._recv(wait=False))  # its last word, if it left one
                before_start(self.pid_b)
                assert self.sock is not None
                if self.relay is not None:
                    self.relay.start()
                elif self.launch.init.tty:  # PID 1 sends "T" before "R", or fails
                    raise SandboxError("the sandbox's init reported ready without the terminal -t asks for")
                try:
                    self.sock.send(go)
                except OSError:  # gone between its "R" and our check's end
                    self._unexpected(self._recv(wait=False))
                sent = True
                after_start()
            elif kind == b"X":
                status, _, signum = body.partition(" ")
                return int(status), int(signum) or None, None
            elif kind == b"E":
                err, _, reason = body.partition(" ")
                code = 127 if err.isdigit() and int(err) in (errno.ENOENT, errno.ENOTDIR) else 126
                return code, None, reason or "cannot execute"
            elif sent and not msg:
                return self._killed()
            else:
                self._unexpected(msg)

    def _configure(self, pid: int) -> None:
        """Between "U" and "G": id maps, network, and (as root) the mount trees; the cgroup and
        `meanwhile` after "G" when PID 1 is our child, as it builds its root."""
        launch = self.launch
        fds: list[int] = []
        try:
            if launch.idmap is not None:
                idmap.write(pid, launch.idmap)
            self.attach(pid)
            if not self.direct and self.join is not None:
                self.join(pid)
            if launch.root_mode and launch.init.fs is not None:
                fds = self._root_trees(pid, launch.init.fs)
            assert self.sock is not None
            channel.send_fds(self.sock, b"G", fds)
        finally:
            for fd in fds:
                os.close(fd)
        join = self.join
        if self.direct and join is not None:
            _overlapped(lambda: join(pid), self.meanwhile)
        else:
            self.meanwhile()

    def _root_trees(self, pid: int, fs: FsPlan) -> list[int]:
        """As root: detached trees of the layers (idmapped into the sandbox) and of the bind sources."""
        userns = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
        trees: list[int] = []
        try:
            for path in fs.layers:
                try:
                    trees.append(mounts.clone_tree(path, libc.MOUNT_ATTR_RDONLY, userns))
                except OSError as exc:
                    raise SandboxError(
                        f"cannot idmap the root filesystem {path} for the sandbox's user namespace: "
                        f"{exc.strerror}: its filesystem may not support idmapped mounts; "
                        "--userns=host --allow-unsafe runs it without a user namespace (audited)"
                    ) from None
            for v in fs.volumes:
                # A named volume is pysandbox's storage: idmapped like the rootfs, so that the
                # sandbox's root owns it whatever its id range; a host path keeps its ownership.
                try:
                    trees.append(mounts.clone_tree(v.source, mounts.bind_attrs(v), userns if v.name else -1))
                except OSError as exc:
                    raise SandboxError(f"cannot bind {v.source}: {exc.strerror}") from None
        except BaseException:
            for fd in trees:
                os.close(fd)
            raise
        finally:
            os.close(userns)
        return trees

    def _recv(self, wait: bool = True) -> bytes:
        """The next message; b"" once the other side is gone (its end closed, or reset by its
        death), or when there is none and not `wait`."""
        try:
            return self._read(0 if wait else channel.MSG_DONTWAIT)
        except ConnectionResetError:
            # its end closed with our "S" unread: the kernel reports that once, ahead of what
            # it sent before it closed (an "F" that says why), which is still queued
            try:
                return self._read(channel.MSG_DONTWAIT)
            except OSError:
                return b""
        except OSError:
            return b""

    def _read(self, flags: int) -> bytes:
        assert self.sock is not None
        if not self.launch.init.tty:
            return self.sock.recv(4096, flags)
        msg, fds = channel.recv_fds(self.sock, 4096, 1, flags)
        if msg[:1] == b"T" and fds and self.relay is None:
            from pysandbox.sandbox.tty import Relay

            stdin, stdout, _ = self.launch.stdio
            self.relay = Relay(fds.pop(), stdin, stdout)
        for fd in fds:
            os.close(fd)
        return msg

    def _unexpected(self, msg: bytes) -> None:
        if msg.startswith(b"F"):
            raise SandboxError(msg[1:].decode(errors="replace"))
        status = self._reap()
        if status == MUTED or self._signal_of(status) == signal.SIGSYS:
            raise SandboxError(_refused_by_filter(status))
        detail = f" (exit status {status})" if status is not None else ""
        raise SandboxError(f"the sandbox stopped during set-up{detail}")

    def _killed(self) -> tuple[int, int | None, str | None]:
        """PID 1 gone without its report once the workload ran: killed from outside (an admin's
        kill -9, the OOM killer), and the workload with it (the pid namespace ends with PID 1).
        As `docker run`: 128+N for signal N."""
        status = self._reap()
        signum = self._signal_of(status)
        if signum == signal.SIGSYS:  # what the kernel does to a process its seccomp filter kills
            raise SandboxError(_refused_by_filter(status))
        if signum is not None:
            return 128 + signum, signum, None
        detail = f" (exit status {status})" if status is not None else ""
        raise SandboxError(f"the sandbox's init ended without reporting how its workload ended{detail}")

    def _signal_of(self, status: int | None) -> int | None:
        """The signal that ended PID 1, from _reap's status: A passes it on as 128+N."""
        if status is None:
            return None
        if status < 0:
            return -status
        return status - 128 if not self.direct and status > 128 else None

    def _reap(self) -> int | None:
        """A's exit status. pid_a is cleared once the wait is over, not before: an interrupt
        during the wait (KeyboardInterrupt in the caller) leaves it for `close` to kill and reap."""
        if not self.pid_a:
            return None
        if self.server is not None and self.report is not None:
            status = self.server.wait(self.report)
            self.pid_a, self.report = 0, None
            return os.waitstatus_to_exitcode(status)
        try:
            _, status = os.waitpid(self.pid_a, 0)
        except ChildProcessError:
            self.pid_a = 0
            return None
        self.pid_a = 0
        return os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        """Kills what is left (only on an error path: A has exited otherwise) and reaps A."""
        if self.pid_a:
            try:
                if self.pidfd >= 0:  # not our child: its pidfd names it whatever became of its pid
                    signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
                else:
                    os.kill(self.pid_a, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
        if self.forwarder is not None:
            self.forwarder.restore()
        if self.relay is not None:
            self.relay.finish()

    def wait(self) -> None:
        """After the final report: A exits as soon as B has. With the fork server, B is the
        server's child: we wait for its exit ourselves rather than for the server to reap it and
        say so (the server may be busy forking the next sandbox)."""
        if self.pidfd >= 0 and self.pid_a:
            self.pid_a = 0
            if self.report is not None:
                self.report.close()  # the server's "X" is not needed: B said how it ended
                self.report = None
            import select

            select.select([self.pidfd], [], [])  # readable once B has exited
        else:
            self._reap()
        if self.relay is not None:
            self.relay.finish()  # the workload's last output, once nothing holds its terminal


_SIGKILL_BIT = 1 << (9 - 1)  # in /proc/PID/status's pending-signal masks


def _running(pid: int) -> bool:
    """Not exited (a zombie has) and not about to: no SIGKILL pending (the PR_SET_PDEATHSIG of a
    fork server that just died, say), whoever its parent is."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            fields = dict(line.split(b":", 1) for line in fh.read().splitlines() if b":" in line)
        state = fields[b"State"].split()[0]
        pending = int(fields[b"SigPnd"], 16) | int(fields[b"ShdPnd"], 16)
    except (OSError, KeyError, IndexError, ValueError):
        return False
    return state not in (b"Z", b"X") and not pending & _SIGKILL_BIT


def _refused_by_filter(status: int | None) -> str:
    how = "refuses write(2) to" if status == MUTED else "killed (SIGSYS)"
    return filter_stopped(f"{how} the sandbox's init before its workload ended")


def check_argv(argv: tuple[str, ...]) -> list[bytes]:
    """The command's words as execve takes them; SandboxError when it cannot take them."""
    try:
        parts = [os.fsencode(arg) for arg in argv]
    except UnicodeError:
        raise SandboxError("the command cannot be encoded for the file system: fix its arguments") from None
    except TypeError:
        raise SandboxError("a word of the command is not a string: pass the command as strings") from None
    if not parts or not parts[0]:
        raise SandboxError("the command's program is an empty string: name the program to run, e.g. /bin/sh")
    if any(b"\0" in part for part in parts):
        raise SandboxError("an argument of the command contains a NUL byte: remove it")
    return parts


def _encode_argv(argv: tuple[str, ...]) -> bytes:
    """A command as "S" carries it to PID 1; raises SandboxError when it cannot be carried."""
    payload = b"\0".join(check_argv(argv))
    if len(payload) > ARGV_MAX:
        raise SandboxError(f"the command is longer than {ARGV_MAX} bytes: pass its data in a file")
    return payload


def _overlapped(waiting: Callable[[], None], working: Callable[[], None]) -> None:
    """Runs `waiting` (a call that sleeps in the kernel) in a thread while this one runs
    `working`; re-raises the first failure. The thread is gone (or about to be) on return, so
    that the next launch can clone directly again."""
    failed: list[BaseException] = []

    def body() -> None:
        try:
            waiting()
        except BaseException as exc:
            failed.append(exc)

    done = threads.start(body)
    try:
        working()
    finally:
        threads.join(done)
    if failed:
        raise failed[0]


def namespace_flags(namespaces: Any, userns: bool) -> int:
    flags = 0
    for name, flag in _NS_FLAGS:
        if getattr(namespaces, name) and (name != "user" or userns):
            flags |= flag
    return flags
