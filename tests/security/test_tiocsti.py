"""TIOCSTI: a sandboxed program pushing keystrokes into the terminal it was started from, to be run
by the user's shell after the sandbox exits (CVE-2017-5226 in bubblewrap, CVE-2016-7545 in
SELinux sandbox). The test gives `pysandbox run` a pty as stdin and controlling terminal; nothing
may land in that terminal's input queue."""

from __future__ import annotations

import array
import fcntl
import os
import subprocess
import termios
from collections.abc import Iterator
from typing import Any

import pytest

from .attackkit import MODES, PROFILES, Kit, parse


def _pending_input(fd: int) -> int:
    buf = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buf, True)
    return buf[0]


@pytest.fixture
def pty() -> Iterator[tuple[int, int]]:
    master, slave = os.openpty()
    try:
        yield master, slave
    finally:
        os.close(master)
        os.close(slave)


def _controlling_tty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_control_tiocsti_works_outside_a_sandbox(kit: Kit, pty: tuple[int, int]) -> None:
    """The premise: on this kernel a process can inject into its own controlling terminal."""
    _, slave = pty
    proc = subprocess.run([str(kit.exe), "tiocsti"], stdin=slave, capture_output=True, text=True,
                          start_new_session=True, preexec_fn=_controlling_tty, timeout=30)  # fmt: skip
    assert parse(proc.stdout)["tiocsti"][0] == "SUCCEEDED"
    assert _pending_input(slave) > 0


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("mode", MODES)
def test_tiocsti_cannot_reach_the_callers_terminal(
    kit: Kit, pty: tuple[int, int], mode: str, profile: str
) -> None:
    _, slave = pty
    kwargs: dict[str, Any] = {"stdin": slave, "start_new_session": True, "preexec_fn": _controlling_tty}
    proc = kit.run_attack(mode, profile, ["/attack", "tiocsti"], **kwargs)
    assert proc.returncode == 0, proc.stderr
    outcome, detail = parse(proc.stdout)["tiocsti"]
    assert (outcome, detail) == ("BLOCKED", "EPERM")
    assert _pending_input(slave) == 0
