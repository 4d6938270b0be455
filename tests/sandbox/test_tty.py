"""-t: the workload on a terminal of the sandbox's own devpts, relayed to the caller's stdio."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import termios
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_root

from pysandbox.sandbox.api import Sandbox

from .conftest import Psb, one_line_error


class _Terminal:
    """A pseudo-terminal of the test's own, with `pysandbox run` on its slave (as in a shell)."""

    def __init__(self, psb: Psb, *args: str, rows: int = 33, columns: int = 101) -> None:
        self.master, self.slave = pty.openpty()
        termios.tcsetwinsize(self.slave, (rows, columns))
        self.before = termios.tcgetattr(self.slave)
        self.output = b""
        self.proc = subprocess.Popen(
            psb.argv(*args), stdin=self.slave, stdout=self.slave, stderr=self.slave, env=psb.env(),
            start_new_session=True, **psb._who(),
        )  # fmt: skip

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_for(self, marker: bytes, timeout: float = 30) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.output:
            left = deadline - time.monotonic()
            assert left > 0, f"{marker!r} never came: {self.output!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                self.output += os.read(self.master, 4096)
        return self.output

    def hang_up(self) -> None:
        """Our side goes away, as a terminal window closes."""
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = -1

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)


@pytest.fixture
def terminal() -> Any:
    opened: list[_Terminal] = []

    def open_one(psb: Psb, *args: str) -> _Terminal:
        opened.append(_Terminal(psb, *args))
        return opened[-1]

    yield open_one
    for term in opened:
        term.close()


def test_an_interactive_shell_gets_its_own_terminal(psb_mode: Psb, terminal: Any) -> None:
    term = terminal(psb_mode, "-it", "--rootfs", str(psb_mode.rootfs), "--", "/bin/sh")
    term.wait_for(b"# ")
    term.type(b"tty; stty size; echo $((6*7))\r")
    term.wait_for(b"42\r\n")
    termios.tcsetwinsize(term.slave, (40, 120))  # a resized window: SIGWINCH (ours has no session)
    os.kill(term.proc.pid, signal.SIGWINCH)
    time.sleep(0.3)
    term.type(b"stty size\r")
    term.wait_for(b"40 120\r\n")
    # raw mode on our side: ^C is a byte that the sandbox's terminal turns into SIGINT
    term.type(b"echo go; sleep 30\r")
    term.wait_for(b"go\r\n")
    time.sleep(0.3)
    term.type(b"\x03")
    term.type(b"echo after=$?\r")
    term.wait_for(b"after=130")
    term.type(b"exit 7\r")
    assert term.proc.wait(timeout=30) == 7
    text = term.output.decode(errors="replace")
    assert "/dev/pts/0\r\n" in text and "33 101\r\n" in text  # its own devpts; our size passed on
    assert termios.tcgetattr(term.slave) == term.before  # our terminal restored


def test_when_our_terminal_hangs_up_so_does_the_workloads(psb_mode: Psb, terminal: Any) -> None:
    term = terminal(psb_mode, "-it", "--rootfs", str(psb_mode.rootfs), "--", "/bin/sh")
    term.wait_for(b"# ")
    term.hang_up()
    assert term.proc.wait(timeout=30) == 128 + signal.SIGHUP  # the shell, hung up, ends


def test_without_a_terminal_of_ours_the_output_still_goes_through_one(psb_mode: Psb) -> None:
    script = "test -t 0 && test -t 1 && test -t 2 && tty; ls -1 /proc/self/fd; echo err >&2; exit 3"
    done = psb_mode.run("-t", "--rootfs", str(psb_mode.rootfs), "--", "/bin/sh", "-c", script)
    assert done.returncode == 3, done.stderr
    # stderr shares the terminal; the master never reaches the sandbox (fd 3 is ls's directory)
    assert done.stdout.splitlines() == ["/dev/pts/0", "0", "1", "2", "3", "err"] and done.stderr == ""


def test_the_terminal_belongs_to_the_workloads_user(psb_mode: Psb) -> None:
    script = "id -u; stat -c %u $(tty); echo typed > $(tty)"
    done = psb_mode.run("-t", "-u", "1000", "--rootfs", str(psb_mode.rootfs), "--", "/bin/sh", "-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1000", "1000", "typed"]


@pytest.mark.parametrize("flags", ["-it", "-ti"])
def test_input_for_a_terminal_must_come_from_a_terminal(psb_self: Psb, flags: str) -> None:
    done = subprocess.run(
        psb_self.argv(flags, "--", "/bin/true"), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        env=psb_self.env(), timeout=60, **psb_self._who(),
    )  # fmt: skip
    assert done.returncode == 125
    assert "the input device is not a TTY: drop -t" in one_line_error(done.stderr)


@requires_root
@pytest.mark.parametrize(
    "mode", [{}, {"prewarm": 2}, {"fork_server": True, "prewarm": 2}], ids=["direct", "prewarm", "server"]
)
def test_the_api_gives_each_run_a_terminal(busybox_rootfs: Path, mode: dict[str, Any]) -> None:
    read, write = os.pipe()
    stdin = os.open(os.devnull, os.O_RDONLY)
    try:
        with Sandbox("default", rootfs=busybox_rootfs, tty=True, stdin=stdin, stdout=write, **mode) as box:
            statuses = [box.run(["/bin/sh", "-c", f"tty; exit {n}"]).status for n in range(3)]
        os.close(write)
        write = -1
        output = os.read(read, 65536)
    finally:
        for fd in (read, write, stdin):
            if fd >= 0:
                os.close(fd)
    assert statuses == [0, 1, 2] and output == b"/dev/pts/0\r\n" * 3
