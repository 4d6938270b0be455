"""A fork server for the Python API (`Sandbox(..., fork_server=True)`): one process, a fresh
interpreter started once, that forks every sandbox's PID 1, so that the caller itself never forks.

Forking the caller for each sandbox costs in proportion to the caller: its page tables are copied
and torn down, and each page it writes while the sandbox runs is copied first (~3.9 us per fault
on the VMs measured; a warm launch of /bin/true took 11.8 ms from a 13 MB caller and 22.7 ms from
a 220 MB one). The server is not a fork of the caller either (a fork made when the caller already
held 200 MB cost 12 ms a launch back to back, against 6-7 ms): it is `sys.executable` started
anew, with the caller's sys.path, importing only what PID 1 runs (~12 MB). Where the caller's
interpreter cannot be started again (sys.executable empty, as in some embedding programs), the
server is a fork of the caller, as before.

Protocol, one SOCK_SEQPACKET datagram each:
  server -> caller, control socket, once: "H" when it is ready (it may exit instead: EOF)
  caller -> server, control socket: the pickled (modules, Launch), with the fds
      [PID 1's end of the launch channel, the report socket, the caller's working directory (an
      O_PATH fd: it may have been removed, as PID 1 forked by the caller could still work in it),
      stdin, stdout, stderr]; `modules`,
      the caller's pysandbox.sandbox modules, are imported first: what PID 1 imports once
      inside (network.loopback, say) cannot be imported after the pivot
  server -> caller, that launch's report socket: "P<pid>" once PID 1 exists (or "F<reason>"),
      then "X<wait status>" once the server has reaped it.
The caller then talks to PID 1 over the launch channel exactly as after its own fork (launcher).

The server dies with the thread that started it (PR_SET_PDEATHSIG) and every PID 1 with the
server; it exits when the caller closes the control socket (Sandbox.close, garbage collection, or
the caller's exit). Launches that observe seccomp denials fork in the caller as before.
"""

from __future__ import annotations

import os
import pickle
import select
import sys
from _thread import allocate_lock

from pysandbox.record import replace
from pysandbox.sandbox import channel, launcher, libc
from pysandbox.sandbox.init import SIGNALS
from pysandbox.types import SandboxError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal

    from pysandbox.sandbox.launcher import Launch
else:
    import _signal as signal

_REQUEST_MAX = 1 << 18  # a pickled Launch is ~12 KB, most of it the seccomp program
_FDS = 6  # launch channel, report socket, working directory, stdin, stdout, stderr
BOOT_TIMEOUT_S = 60.0  # for the server's start-up (~30 ms here)
_CONTROL_FD = 3  # the control socket's number in a server started anew
_PACKAGE = "pysandbox.sandbox."
# -I: no PYTHON* variables, no user site; -S: no site, the caller's sys.path instead (argv[2:])
_BOOT = "import sys; sys.path[:] = sys.argv[2:]; from pysandbox.sandbox import forkserver; forkserver.main()"


class ForkServer:
    """The caller's side: start the server, ask it for a PID 1, learn how that PID 1 ended."""

    def __init__(self) -> None:
        ours, theirs = channel.pair()
        try:
            self.pid = _start_anew(theirs) if sys.executable else _fork(ours, theirs)
        except OSError as exc:
            ours.close()
            reason = exc.strerror or exc
            message = f"cannot start the sandbox fork server ({reason}): use fork_server=False"
            raise SandboxError(message) from None
        finally:
            theirs.close()
        self._control: channel.Sock | None = ours
        self._lock = allocate_lock()  # one request at a time on the control socket
        self._ready = False  # its "H" read

    def alive(self) -> bool:
        if self._control is None:
            return False
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return done == 0

    def request(self, launch: Launch, child_end: channel.Sock) -> channel.Sock:
        """Asks for PID 1 of a new sandbox, cloned by the server into `launch.flags`: the report
        socket, from which `started` reads its pid and `wait` its end."""
        try:
            cwd = os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise SandboxError(
                f"cannot open the working directory for the fork server: {exc.strerror}"
            ) from None
        report, theirs = channel.pair()
        try:
            modules = [name for name in sys.modules if name.startswith(_PACKAGE)]
            request = pickle.dumps((modules, launch), protocol=pickle.HIGHEST_PROTOCOL)
            fds = [child_end.fileno(), theirs.fileno(), cwd, *launch.stdio]
            with self._lock:
                if self._control is None:
                    raise OSError(9, "closed")
                if not self._ready:
                    self._await_hello(self._control)
                channel.send_fds(self._control, request, fds)
        except OSError as exc:
            report.close()
            raise SandboxError(f"the sandbox fork server is gone ({exc.strerror}): run again") from None
        finally:
            theirs.close()
            os.close(cwd)
        return report

    def _await_hello(self, control: channel.Sock) -> None:
        """The server's "H": it has started, imported what PID 1 needs, and serves."""
        started, _, _ = select.select([control], [], [], BOOT_TIMEOUT_S)
        if not started or control.recv(16) != b"H":
            if not started:
                os.kill(self.pid, signal.SIGKILL)
            try:
                _, status = os.waitpid(self.pid, 0)
                how = f"exited with status {os.waitstatus_to_exitcode(status)}"
            except ChildProcessError:
                how = "is gone"
            raise SandboxError(
                f"the sandbox fork server ({sys.executable}) {how} before it was ready (its error, if "
                "any, is above): check that this interpreter can import pysandbox, or use fork_server=False"
            )
        self._ready = True

    @staticmethod
    def started(report: channel.Sock) -> int:
        """The pid of the PID 1 requested (closes `report` when there is none)."""
        answer = report.recv(4096)
        if answer.startswith(b"P"):
            return int(answer[1:])
        report.close()
        if answer.startswith(b"F"):
            raise SandboxError(answer[1:].decode(errors="replace"))
        raise SandboxError("the sandbox fork server stopped: start a new Sandbox")

    @staticmethod
    def wait(report: channel.Sock) -> int:
        """The wait status of the PID 1 behind `report` (SIGKILL's if the server died first)."""
        try:
            answer = report.recv(64)
        except OSError:
            answer = b""
        finally:
            report.close()
        return int(answer[1:]) if answer.startswith(b"X") else int(signal.SIGKILL)

    def __del__(self) -> None:
        """A Sandbox dropped without close(): the server exits on EOF, and is reaped here rather
        than left a zombie for the caller's lifetime."""
        try:
            self.close()
        except Exception:  # at interpreter shutdown, say
            pass

    def close(self) -> None:
        """Stop the server (a sandbox still running is killed with it) and reap it."""
        with self._lock:
            control, self._control = self._control, None
        if control is None:
            return
        control.close()  # the server exits on EOF
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _start_anew(control: channel.Sock) -> int:
    """sys.executable started as a server (`main`), `control` its fd _CONTROL_FD; its pid."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = [here, *(p for p in sys.path if p != here)]  # pysandbox itself, however the caller found it
    argv = [sys.executable, "-I", "-S", "-c", _BOOT, str(os.getpid()), *path]
    actions = [(os.POSIX_SPAWN_DUP2, control.fileno(), _CONTROL_FD)]
    return os.posix_spawn(sys.executable, argv, os.environ, file_actions=actions, setsigmask=())


def _fork(ours: channel.Sock, theirs: channel.Sock) -> int:
    """The server as a fork of the caller (which then weighs on every launch); its pid."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ours.close()
            code = _serve(theirs, parent)
        finally:
            os._exit(code)
    return pid


def main() -> None:
    """The server started anew (_BOOT): argv[1] is the caller's pid."""
    code = 1
    try:
        control = channel.Sock(fileno=_CONTROL_FD)
        code = _serve(control, int(sys.argv[1]))
    finally:
        os._exit(code)


def _serve(control: channel.Sock, parent: int) -> int:
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        return 0
    libc.retitle(b"pysandbox-forkserver")  # rather than the interpreter's command line and sys.path
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)  # the caller forwards signals to each PID 1 itself
    libc.close_fds_except([control.fileno()])
    import gc

    # A collection writes to every tracked object: pages the server shares with each PID 1 (and
    # with the caller) would be copied for nothing.
    gc.disable()
    try:
        control.send(b"H")
    except OSError:
        return 0
    poller = select.poll()
    poller.register(control.fileno(), select.POLLIN)
    running: dict[int, tuple[int, channel.Sock]] = {}  # pidfd -> (pid, report socket)
    while True:
        for fd, _ in poller.poll():
            if fd != control.fileno():
                pid, report = running.pop(fd)
                poller.unregister(fd)
                os.close(fd)
                _, status = os.waitpid(pid, 0)
                _answer(report, b"X%d" % status)
                report.close()
                continue
            try:
                request, fds = channel.recv_fds(control, _REQUEST_MAX, _FDS)
            except OSError:
                request, fds = b"", []
            if not request:
                return 0  # the caller is gone: running PID 1s die with us (PR_SET_PDEATHSIG)
            started = _start(control, request, fds)
            if started is not None:
                pidfd, pid, report = started
                running[pidfd] = (pid, report)
                poller.register(pidfd, select.POLLIN)


def _start(control: channel.Sock, request: bytes, fds: list[int]) -> tuple[int, int, channel.Sock] | None:
    if len(fds) != _FDS:
        for fd in fds:
            os.close(fd)
        return None
    child_end, report_fd, cwd, *stdio = fds
    report = channel.Sock(fileno=report_fd)
    flags = 0
    try:
        modules, launch = pickle.loads(request)
        for name in modules:
            if name not in sys.modules and name.startswith(_PACKAGE):
                __import__(name)
        flags = launch.flags
        os.fchdir(cwd)  # relative paths in the plan mean what they meant to the caller
        launch = replace(launch, stdio=tuple(stdio))
        pid = libc.fork_into_namespaces(flags)
    except Exception as exc:
        reason = launcher.unshare_failure(exc, flags) if isinstance(exc, OSError) and flags else str(exc)
        _answer(report, b"F" + reason.encode(errors="replace")[:4000])
        report.close()
        for fd in (child_end, cwd, *stdio):
            os.close(fd)
        return None
    if pid == 0:
        control.close()
        report.close()
        launcher.run_child(channel.Sock(fileno=child_end), launch)
    for fd in (child_end, cwd, *stdio):
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    _answer(report, b"P%d" % pid)
    return pidfd, pid, report


def _answer(report: channel.Sock, message: bytes) -> None:
    try:
        report.send(message)
    except OSError:
        pass  # the caller gave up on this launch
