"""`none`, `slirp` and `host` modes of pysandbox.sandbox.network, through real namespaces and a real
slirp4netns, as root and as the unprivileged test user. Only loopback and namespaces the tests
make are ever contacted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from proctools import alive

from pysandbox.sandbox import network
from pysandbox.types import SandboxError, UserError

OUTSIDE = "192.0.2.1"  # on the loopback of a netns the test makes: a stand-in for "the internet"
Probe = Callable[..., dict[str, Any]]


def test_none_has_only_loopback_up(probe: Probe) -> None:
    out = probe("--mode", "none")
    assert out["interfaces"] == ["lo"]
    assert out["lo_up_before"] is False and out["lo_up_after"] is True


def test_none_blocks_egress(probe: Probe) -> None:
    """The host's loopback server, slirp's gateway and an outside address: none is reachable."""
    out = probe(
        "--mode",
        "none",
        "--server-addr",
        "127.0.0.1",
        "--connect",
        "SERVER",
        "--connect",
        "GATEWAY",
        "--connect",
        f"{OUTSIDE}:80",
    )
    host_lo, gateway, outside = out["targets"]
    assert out[host_lo] == "ECONNREFUSED"  # the sandbox's own, empty loopback
    assert out[gateway] == "ENETUNREACH"
    assert out[outside] == "ENETUNREACH"


def test_none_blocks_egress_where_outside_exists(probe: Probe) -> None:
    """Same, inside a test netns where OUTSIDE really serves: still unreachable from the sandbox."""
    out = probe("--mode", "none", "--server-addr", OUTSIDE, "--connect", "SERVER", test_netns=True)
    assert out[out["targets"][0]] == "ENETUNREACH"


def test_slirp_egress_reaches_outside(probe: Probe) -> None:
    out = probe("--mode", "slirp", "--server-addr", OUTSIDE, "--connect", "SERVER", test_netns=True)
    assert out["interfaces"] == ["lo", "tap0"]
    assert out[out["targets"][0]] == "ok:hello"
    assert out["slirp_exit"] == 0 and out["workdir_left"] is False


def test_slirp_blocks_host_loopback(probe: Probe) -> None:
    out = probe("--mode", "slirp", "--server-addr", "127.0.0.1", "--connect", "GATEWAY", test_netns=True)
    assert out[out["targets"][0]] == "ENETUNREACH"


def test_slirp_host_loopback_when_asked(probe: Probe) -> None:
    """The control for the test above: the same connection succeeds once allowed."""
    args = ["--server-addr", "127.0.0.1", "--connect", "GATEWAY", "--allow-host-loopback"]
    out = probe("--mode", "slirp", *args, test_netns=True)
    assert out[out["targets"][0]] == "ok:hello"


@pytest.mark.parametrize("proto", ["", "/tcp"])
def test_slirp_publishes_port(probe: Probe, free_port: Callable[[], int], proto: str) -> None:
    host_port = free_port()
    out = probe("--mode", "slirp", "--publish", f"127.0.0.1:{host_port}:8080{proto}", "--serve", "8080")
    assert out["published"] == "pong"


def test_slirp_publish_port_in_use(probe: Probe) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = probe("--mode", "slirp", "--publish", f"127.0.0.1:{port}:80")
    assert out["error"].startswith(f"cannot publish 127.0.0.1:{port}:80/tcp")


def test_slirp_exits_when_launcher_is_killed(who: str, request: pytest.FixtureRequest) -> None:
    """kill -9 of the process that attached: slirp4netns sees its exit fd close and goes away."""
    python = sys.executable if who == "root" else request.getfixturevalue("delegated_user").python
    source = Path(__file__).with_name("probe.py").read_text()
    argv = [python, "-c", source, "--mode", "slirp", "--hang"]
    if who != "root":
        user = request.getfixturevalue("delegated_user")
        argv = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", "--", *argv]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd="/")
    try:
        assert proc.stdout is not None
        pids = json.loads(proc.stdout.readline())
        assert alive(pids["slirp_pid"])
        assert not os.path.exists(pids["workdir"])  # nothing on disk for a kill -9 to leak
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while alive(pids["slirp_pid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pids["slirp_pid"])
    finally:
        proc.kill()
        proc.wait()
        if "pids" in locals():
            _kill(pids["child_pid"])
            _kill(pids["slirp_pid"])


def test_host_mode_shares_the_network(probe: Probe) -> None:
    out = probe("--mode", "host", "--server-addr", "127.0.0.1", "--connect", "SERVER")
    assert out[out["targets"][0]] == "ok:hello"


def test_slirp_missing_binary_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxError, match="needs slirp4netns"):
        network.attach("slirp", os.getpid())


def test_publish_needs_slirp() -> None:
    with pytest.raises(UserError, match="--publish needs --network slirp"):
        network.check("none", ["8080:80"])
    with pytest.raises(UserError, match="unknown --network"):
        network.check("bridge")


def test_resolv_conf() -> None:
    assert network.resolv_conf("slirp") == "nameserver 10.0.2.3\n"
    assert network.resolv_conf("none") is None


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
