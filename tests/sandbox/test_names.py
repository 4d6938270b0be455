"""Sandbox names: unique among running sandboxes, generated when absent, reusable once stopped."""

from __future__ import annotations

import re

from .conftest import Psb, one_line_error
from .test_process import _wait_line


def test_names_are_unique_while_running(psb_mode: Psb) -> None:
    r = str(psb_mode.rootfs)
    first = psb_mode.popen(
        "--name", "only-one", "--rootfs", r, "--", "/bin/sh", "-c", "echo ready; exec sleep 1000"
    )
    try:
        _wait_line(first, "ready")
        second = psb_mode.run("--name", "only-one", "--rootfs", r, "--", "/bin/true")
        assert second.returncode == 125
        assert "in use by a running sandbox" in one_line_error(second.stderr)
        other = psb_mode.run("--name", "another-one", "--rootfs", r, "--", "/bin/true")
        assert other.returncode == 0, other.stderr
    finally:
        first.terminate()
        first.communicate(timeout=30)
    assert first.returncode == 128 + 15
    again = psb_mode.run("--name", "only-one", "--rootfs", r, "--", "/bin/hostname")
    assert again.returncode == 0 and again.stdout.strip() == "only-one", again.stderr
    assert not (psb_mode.home / "sandboxes" / "only-one").exists()


def test_generated_names(psb_mode: Psb) -> None:
    done = psb_mode.run("--rootfs", str(psb_mode.rootfs), "--", "/bin/hostname")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"psb-[0-9a-f]{12}", done.stdout.strip())
