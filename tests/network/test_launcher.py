"""`pysandbox run --network slirp -p` end to end: a busybox server inside the sandbox answers on
127.0.0.1:HOSTPORT of the host, as root and rootless; bad -p values fail before anything starts."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cgroups.delegation import Cli

SERVE = "while :; do echo pong | nc -l -p 8080; done"


@pytest.fixture
def user(who: str, request: pytest.FixtureRequest) -> object | None:
    return request.getfixturevalue("delegated_user") if who == "rootless" else None


def test_published_port_reaches_server_in_sandbox(
    user: object | None, busybox_rootfs: Path, cli_for: Cli, free_port: Callable[[], int]
) -> None:
    host_port = free_port()
    argv, env = cli_for(user)
    argv += ["run", "--allow-unsafe", "--network", "slirp", "-p", f"127.0.0.1:{host_port}:8080",
             "--rootfs", str(busybox_rootfs), "--", "sh", "-c", SERVE]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, cwd="/", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _read_when_up(host_port, proc) == "pong\n"
        proc.terminate()  # forwarded to the sandbox
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 128 + 15, err
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--allow-unsafe", "--network", "slirp", "-p", "99999:80"], "bad --publish '99999:80'"),
        (["-p", "8080:80"], "--publish needs --network slirp"),
    ],
)
def test_bad_publish_is_refused(
    user: object | None, busybox_rootfs: Path, cli_for: Cli, args: list[str], message: str
) -> None:
    argv, env = cli_for(user)
    argv += ["run", *args, "--rootfs", str(busybox_rootfs), "--", "true"]
    proc = subprocess.run(argv, env=env, cwd="/", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 125
    assert proc.stderr.startswith(f"pysandbox: error: {message}")
    assert "Traceback" not in proc.stderr


def _read_when_up(port: int, proc: subprocess.Popen[str]) -> str:
    """Connect once the sandbox's server listens (slirp accepts and resets until then)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                data = conn.recv(100).decode()
                if data:
                    return data
        except OSError:
            pass
        time.sleep(0.1)
    err = proc.communicate(timeout=30)[1] if proc.poll() is not None else ""
    raise AssertionError(f"no answer on 127.0.0.1:{port}; sandbox status {proc.poll()}: {err}")
