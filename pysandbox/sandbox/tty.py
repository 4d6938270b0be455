"""`run -t`: the launcher's side of the workload's pseudo-terminal.

The terminal comes from the sandbox's own devpts instance, as runc's `terminal: true` does: PID 1
opens it inside (init.open_terminal) and sends its master here, so no terminal of the host's is
ever handed to the sandbox. The launcher relays between the master and the caller's stdio, with
the caller's terminal (when stdin is one) in raw mode, so that ^C, ^Z and line editing reach the
workload's terminal, and passes the terminal's size on (at the start and on SIGWINCH).

Imported only with -t: termios, select and the relay thread stay off the plain `run` path.
"""

from __future__ import annotations

import _signal as signal
import os
import select
import termios

from pysandbox.sandbox import threads

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any

_CHUNK = 65536
_DRAIN_S = 5.0  # after PID 1 is reaped, the master reports EIO once its output is read


class Relay:
    """Copies the caller's input (when `stdin` is not None) to the master and the master's output
    to `stdout`, in a thread of its own, from `start` until the workload's side is closed."""

    def __init__(self, master: int, stdin: int | None, stdout: int) -> None:
        self.master = master
        self.stdin = stdin
        self.stdout = stdout
        self._from_terminal = stdin is not None and os.isatty(stdin)  # its end is a hang-up
        self._saved: Any = None  # the caller's terminal settings (termios.tcgetattr), while raw
        self._winch: object = None
        self._done: Any = None  # threads.start's lock, while the relay runs
        self._copy_size()

    def start(self) -> None:
        """Raw mode (when stdin is a terminal), SIGWINCH (from the main thread only), the thread."""
        if self.stdin is not None and self._from_terminal:
            try:
                saved = termios.tcgetattr(self.stdin)
                _make_raw(self.stdin, saved)
                self._saved = saved
            except termios.error:  # hung up already: the relay sees it at its first read
                pass
        try:
            self._winch = signal.signal(signal.SIGWINCH, self._on_winch)
        except ValueError:  # not the main thread: the size stays as it was at the start
            self._winch = None
        self._done = threads.start(self._copy)

    def finish(self) -> None:
        """Once PID 1 is reaped: the rest of the output written, the caller's terminal restored.
        Also on error paths (idempotent)."""
        done, self._done = self._done, None
        if done is not None and not threads.join(done, _DRAIN_S):
            return self._restore()  # a process the slave was passed to outside the sandbox holds it
        self._restore()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def _restore(self) -> None:
        saved, self._saved = self._saved, None
        if saved is not None and self.stdin is not None:
            try:
                termios.tcsetattr(self.stdin, termios.TCSADRAIN, saved)
            except termios.error:  # it hung up meanwhile
                pass
        if self._winch is not None:
            signal.signal(signal.SIGWINCH, self._winch)
            self._winch = None

    def _on_winch(self, _signum: int, _frame: object) -> None:
        try:  # a handler's exception would surface wherever the launcher happens to be
            self._copy_size()
        except (OSError, termios.error):  # the master closed (a hang-up) or our terminal gone
            pass

    def _copy_size(self) -> None:
        for fd in (self.stdin, self.stdout):
            if fd is not None and os.isatty(fd):
                try:
                    size = os.get_terminal_size(fd)
                except OSError:
                    continue
                termios.tcsetwinsize(self.master, (size.lines, size.columns))
                return

    def _copy(self) -> None:
        sources = [self.master] if self.stdin is None else [self.master, self.stdin]
        writable = True
        while True:
            try:
                ready, _, _ = select.select(sources, [], [])
            except InterruptedError:
                continue
            if self.master in ready:
                try:
                    data = os.read(self.master, _CHUNK)
                except OSError:  # EIO: every holder of the slave is gone
                    return
                if not data:
                    return
                if writable:
                    writable = _write_all(self.stdout, data)  # the reader gone: drain, write no more
            if self.stdin is not None and self.stdin in ready:
                try:
                    data = os.read(self.stdin, _CHUNK)
                except OSError:  # EIO: our terminal hung up
                    data = b""
                if not data and self._from_terminal:
                    return self._hang_up()
                if not data or not _write_all(self.master, data):
                    sources.remove(self.stdin)

    def _hang_up(self) -> None:
        """Our terminal is gone (its window closed, the connection dropped): the workload's hangs
        up too, as a terminal emulator's does when it closes its master (SIGHUP to the session)."""
        os.close(self.master)
        self.master = -1


def _write_all(fd: int, data: bytes) -> bool:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except InterruptedError:
            continue
        except OSError:
            return False
    return True


def _make_raw(fd: int, saved: Any) -> None:
    """cfmakeraw(3), as `tty.setraw` does (the tty module would add its own import)."""
    mode = list(saved)
    mode[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR
                 | termios.IGNCR | termios.ICRNL | termios.IXON)  # fmt: skip
    mode[1] &= ~termios.OPOST
    mode[2] &= ~(termios.CSIZE | termios.PARENB)
    mode[2] |= termios.CS8
    mode[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    cc = list(mode[6])
    cc[termios.VMIN], cc[termios.VTIME] = 1, 0
    mode[6] = cc
    termios.tcsetattr(fd, termios.TCSAFLUSH, mode)
