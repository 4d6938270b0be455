"""Network egress from real sandboxes, as root and rootless. Each case runs in a network namespace
the test makes, where 192.0.2.1 (TEST-NET-1, on that namespace's loopback) stands for the outside
world and 127.0.0.1 for the host's loopback; servers on both count the connections they accept."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cgroups.delegation import Cli, cli_for, delegated_user  # noqa: F401 - fixtures, registered here

OUTSIDE = "192.0.2.1"

# Inside the test netns, as root: address the loopback, start the two servers, run the sandbox
# (as the test user when given), report what it printed and what the servers saw.
RUNNER = r"""
import json, os, socket, subprocess, sys, threading
cfg = json.loads(sys.argv[1])
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["ip", "addr", "add", cfg["outside"] + "/32", "dev", "lo"], check=True)
accepted = {}
def serve(addr):
    sock = socket.socket()
    sock.bind((addr, 0))
    sock.listen()
    accepted[addr] = 0
    def loop():
        while True:
            conn, _ = sock.accept()
            accepted[addr] += 1
            conn.sendall(b"hello\n")
            conn.close()
    threading.Thread(target=loop, daemon=True).start()
    return sock.getsockname()[1]
ports = {"LOOPBACK": serve("127.0.0.1"), "OUTSIDE": serve(cfg["outside"])}
argv = [a.replace("LOOPBACK_PORT", str(ports["LOOPBACK"])).replace("OUTSIDE_PORT", str(ports["OUTSIDE"]))
        for a in cfg["argv"]]
proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=cfg["env"], cwd="/")
print(json.dumps({"status": proc.returncode, "out": proc.stdout, "err": proc.stderr, "accepted": accepted}))
"""

# Busybox nc from inside the sandbox: one line per target, "connected" or nc's error.
PROBE = (
    "for t in 127.0.0.1:LOOPBACK_PORT 10.0.2.2:LOOPBACK_PORT " + OUTSIDE + ":OUTSIDE_PORT; do "
    'r=$(nc -w 3 ${t%:*} ${t#*:} </dev/null 2>&1) && r="connected $r"; echo "${t%:*} $r"; done'
)

Run = Callable[..., dict[str, Any]]


@pytest.fixture(params=["root", "rootless"])
def run_in_test_netns(request: pytest.FixtureRequest, busybox_rootfs: Path) -> Run:
    user = request.getfixturevalue("delegated_user") if request.param == "rootless" else None
    cli: Cli = request.getfixturevalue("cli_for")

    def run(*args: str) -> dict[str, Any]:
        argv, env = cli(user)
        cfg = {"outside": OUTSIDE, "env": env, "argv": [*argv, "run", "--rootfs", str(busybox_rootfs), *args]}
        proc = subprocess.run(["unshare", "--net", "--", sys.executable, "-c", RUNNER, json.dumps(cfg)],
                              capture_output=True, text=True, timeout=180)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        out = dict(json.loads(proc.stdout))
        out["results"] = dict(line.split(" ", 1) for line in out["out"].splitlines() if line)
        return out

    return run


# permissive shares the host's network namespace: --network none gives it one of its own
@pytest.mark.parametrize("profile", ["default", "strict", "permissive"])
def test_egress_blocked_under_none(run_in_test_netns: Run, profile: str) -> None:
    out = run_in_test_netns("--profile", profile, "--network", "none", "--", "sh", "-c", PROBE)
    assert out["status"] == 0, out["err"]
    results = out["results"]
    assert "Connection refused" in results["127.0.0.1"]  # the sandbox's own, empty loopback
    assert "Network is unreachable" in results["10.0.2.2"]
    assert "Network is unreachable" in results[OUTSIDE]
    assert out["accepted"] == {"127.0.0.1": 0, OUTSIDE: 0}


def test_none_shows_only_loopback(run_in_test_netns: Run) -> None:
    out = run_in_test_netns("--network", "none", "--", "cat", "/proc/net/dev")
    assert out["status"] == 0, out["err"]
    names = [line.split(":")[0].strip() for line in out["out"].splitlines()[2:]]
    assert names == ["lo"]


# permissive shares the host's network namespace: --network slirp (tightening it) gives it its own
@pytest.mark.parametrize(
    "profile", [("--allow-unsafe",), ("--profile", "permissive")], ids=["default", "permissive"]
)
def test_slirp_reaches_outside_but_not_host_loopback(
    run_in_test_netns: Run, profile: tuple[str, ...]
) -> None:
    """The control for the tests above (the probe does detect a reachable server), and slirp's
    own promise: the host's loopback stays out of reach through 10.0.2.2."""
    out = run_in_test_netns(*profile, "--network", "slirp", "--", "sh", "-c", PROBE)
    assert out["status"] == 0, out["err"]
    results = out["results"]
    assert results[OUTSIDE].startswith("connected hello")
    assert "Network is unreachable" in results["10.0.2.2"]
    assert "Connection refused" in results["127.0.0.1"]
    assert out["accepted"] == {"127.0.0.1": 0, OUTSIDE: 1}
