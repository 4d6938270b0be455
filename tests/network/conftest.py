"""Run `probe.py` as root or as the unprivileged test user, optionally inside a network namespace
made for the test (with 192.0.2.1, a TEST-NET-1 address, on its loopback as an "outside" server)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cgroups.delegation import cli_for, delegated_user  # noqa: F401 - fixtures

PROBE = Path(__file__).with_name("probe.py").read_text()
OUTSIDE = "192.0.2.1"
REPO = Path(__file__).resolve().parents[2]

Probe = Callable[..., dict[str, Any]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A port nothing listens on right now (for -p HOSTPORT)."""
    return _free_port


@pytest.fixture(params=["root", "rootless"])
def who(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def probe(who: str, request: pytest.FixtureRequest) -> Probe:
    """probe(*args, test_netns=False) -> the probe's JSON, run as `who`."""

    def run(*args: str, test_netns: bool = False, timeout: float = 60) -> dict[str, Any]:
        if who == "root":
            python, env, user = sys.executable, dict(os.environ), None
        else:
            test_user = request.getfixturevalue("delegated_user")
            python, user = test_user.python, test_user
            env = {"PATH": os.environ["PATH"], "HOME": str(test_user.home), "LANG": "C.UTF-8"}
        argv = [python, "-c", PROBE, *args]
        if user is not None:
            argv = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", "--", *argv]
        if test_netns:
            setup = f'ip link set lo up && ip addr add {OUTSIDE}/32 dev lo && exec "$@"'
            argv = ["unshare", "--net", "--", "sh", "-c", setup, "sh", *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd="/")
        assert proc.returncode == 0, proc.stderr
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

    return run
