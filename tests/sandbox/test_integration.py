"""The launcher with the other packages: slirp's resolv.conf, images and named volumes held while a
sandbox runs, --cpuset-cpus, and slirp's allow_host_loopback option."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cgroups.delegation import Cli, cli_for, delegated_user  # noqa: F401 - fixtures, registered here
from conftest import requires_root
from images.imgbuild import Layer, oci_image, tar_dir
from security.test_network import PROBE, Run, run_in_test_netns  # noqa: F401 - fixture

from .conftest import Psb, one_line_error


def _cli(psb: Psb, *args: str) -> subprocess.CompletedProcess[str]:
    """A non-run pysandbox command as the sandbox's user, with the same PYSANDBOX_HOME."""
    if psb.mode == "root":
        env = {**os.environ, "PYSANDBOX_HOME": str(psb.home)}
        return subprocess.run([sys.executable, "-m", "pysandbox", *args], capture_output=True, text=True,
                              env=env, timeout=120)  # fmt: skip
    done: subprocess.CompletedProcess[str] = psb.user.pysandbox(*args, env={"PYSANDBOX_HOME": str(psb.home)})
    return done


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the sandbox ended early ({proc.returncode}): {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.05)


Stop = Callable[[subprocess.Popen[str]], tuple[int, list[str]]]


@pytest.fixture
def stop() -> Iterator[Stop]:
    """Stops a running sandbox (SIGTERM, forwarded to its workload): (status, stdout lines)."""
    started: list[subprocess.Popen[str]] = []

    def stop(proc: subprocess.Popen[str]) -> tuple[int, list[str]]:
        started.append(proc)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        return proc.returncode, out.splitlines()

    yield stop
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_slirp_without_a_resolv_conf_mount_point_warns_and_runs(
    psb_mode: Psb, request: pytest.FixtureRequest
) -> None:
    """The root-owned busybox rootfs has no /etc/resolv.conf: as root the sandbox's (idmapped) root
    creates the mount point; rootless it cannot, so the file is left out with a warning."""
    if psb_mode.mode == "rootless":
        request.getfixturevalue("delegated_user")  # /dev/net/tun for slirp4netns
    assert not (psb_mode.rootfs / "etc" / "resolv.conf").exists()
    done = psb_mode.run("--allow-unsafe", "--network", "slirp", "--rootfs", str(psb_mode.rootfs), "--",
                        "/bin/sh", "-c", "cat /etc/resolv.conf 2>/dev/null || echo none")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    if psb_mode.mode == "root":
        assert done.stdout.startswith("nameserver "), done.stdout
    else:
        assert done.stdout == "none\n"
        warnings = [line for line in done.stderr.splitlines() if line.startswith("pysandbox: warning:")]
        assert len(warnings) == 1 and "/etc/resolv.conf not provided" in warnings[0], done.stderr
        assert "Permission denied" in warnings[0]


def test_named_volume_belongs_to_the_sandbox_root_and_is_held(psb_mode: Psb, stop: Stop) -> None:
    data = psb_mode.home / "volumes" / "shared" / "data"
    proc = psb_mode.popen("-v", "shared:/vol", "--rootfs", str(psb_mode.rootfs), "--", "/bin/sh", "-c",
                          "stat -c '%u %g' /vol; echo hi > /vol/f; stat -c %u /vol/f; touch /vol/up; "
                          "exec sleep 60")  # fmt: skip
    _wait_for(data / "up", proc)
    refused = _cli(psb_mode, "volume", "rm", "shared")
    assert refused.returncode == 2 and "in use" in one_line_error(refused.stderr)
    assert (data / "f").read_text() == "hi\n"
    # the sandbox's root owns the volume and what it writes there
    assert stop(proc) == (128 + signal.SIGTERM, ["0 0", "0"])
    removed = _cli(psb_mode, "volume", "rm", "shared")
    assert removed.returncode == 0, removed.stderr
    assert not data.exists()


@pytest.fixture
def image_layout(busybox_rootfs: Path, world_dir: Path) -> Path:
    """An OCI layout of the busybox root with a file in a second layer, readable by the test user."""
    top = world_dir / "top"
    (top / "data").mkdir(parents=True)
    (top / "data" / "hello").write_text("from the image\n")
    layers = [Layer(tar_dir(busybox_rootfs, world_dir / "bb.tar").read_bytes()),
              Layer(tar_dir(top, world_dir / "top.tar").read_bytes())]  # fmt: skip
    layout = oci_image(world_dir / "layout", layers, {"Cmd": ["/bin/cat", "/data/hello"]})
    subprocess.run(["chmod", "-R", "a+rX", str(world_dir)], check=True)
    return layout


def test_image_runs_and_its_layers_are_held_while_it_runs(
    psb_mode: Psb, image_layout: Path, stop: Stop
) -> None:
    imported = _cli(psb_mode, "image", "import", "-q", str(image_layout), "--tag", "held:1")
    assert imported.returncode == 0, imported.stderr
    once = psb_mode.run("held:1")
    assert once.returncode == 0, once.stderr
    assert once.stdout == "from the image\n"
    marker = psb_mode.home / "volumes" / "mark" / "data" / "up"
    proc = psb_mode.popen("-v", "mark:/mark", "--read-only", "held:1", "/bin/sh", "-c",
                          "touch /mark/up; sleep 2; cat /data/hello; exec sleep 60")  # fmt: skip
    _wait_for(marker, proc)
    assert _cli(psb_mode, "image", "rm", "held:1").returncode == 0
    pruned = _cli(psb_mode, "image", "prune")
    assert pruned.returncode == 0, pruned.stderr
    layers = psb_mode.home / "images" / "layers"
    assert any(layers.iterdir()), "the running sandbox's layers were pruned"
    time.sleep(2.5)
    assert stop(proc) == (128 + signal.SIGTERM, ["from the image"])
    assert _cli(psb_mode, "image", "prune").returncode == 0
    assert not any(layers.iterdir())
    assert _cli(psb_mode, "volume", "rm", "mark").returncode == 0


@requires_root
def test_cpuset_cpus_pins_the_workload(psb_self: Psb) -> None:
    done = psb_self.run("--cpuset-cpus", "0", "--rootfs", str(psb_self.rootfs), "--",
                        "/bin/grep", "Cpus_allowed_list", "/proc/self/status")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Cpus_allowed_list:", "0"]


def test_cpuset_cpus_bad_list_fails_early(psb_self: Psb) -> None:
    done = psb_self.run("--cpuset-cpus", "1-0", "--rootfs", str(psb_self.rootfs), "--", "/bin/true")
    assert done.returncode == 125
    assert "is not a cpu list" in one_line_error(done.stderr)


def test_slirp_allow_host_loopback(run_in_test_netns: Run) -> None:  # noqa: F811 - the fixture
    out = run_in_test_netns("--allow-unsafe", "--network", "slirp:allow_host_loopback=true", "--",
                            "sh", "-c", PROBE)  # fmt: skip
    assert out["status"] == 0, out["err"]
    assert out["results"]["10.0.2.2"].startswith("connected hello")
    assert out["accepted"]["127.0.0.1"] == 1


def test_network_option_errors(psb_self: Psb) -> None:
    r = str(psb_self.rootfs)
    done = psb_self.run("--network", "slirp:allow_host_loopback=true", "--rootfs", r, "--", "/bin/true")
    assert done.returncode == 125 and "--allow-unsafe" in one_line_error(done.stderr)
    done = psb_self.run("--network", "none:foo=1", "--rootfs", r, "--", "/bin/true")
    assert done.returncode == 125 and "unknown --network option" in one_line_error(done.stderr)
    done = psb_self.run(
        "--allow-unsafe", "--network", "slirp", "-p", "70000:80", "--rootfs", r, "--", "/bin/true"
    )
    assert done.returncode == 125 and "--publish" in one_line_error(done.stderr)
