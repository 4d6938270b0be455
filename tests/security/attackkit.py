"""Shared pieces of the escape-attempt suite: the attack program, per-user root filesystems, a host
secret, and a snapshot of the host state that every attack must leave unchanged.

Fixtures are imported by the test modules that use them (no conftest.py: other suites share this
directory and must not inherit these)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
MODES = ("root", "rootless")
# The same attacks through the Python API with prewarm: a sandbox the prewarm thread started ahead
# (through the fork server, unless the profile observes denials), handed the attack as its command.
API_MODES = ("root-prewarm", "rootless-prewarm")
API_RUN = """
import sys
from pysandbox.sandbox.api import Sandbox
profile, rootfs, volume, *command = sys.argv[1:]
with Sandbox(profile, rootfs=rootfs, volumes=[volume], prewarm=2) as box:
    sys.exit(box.run(command).status)
"""
PROFILES = ("strict", "default")
TMP_SIZE = {"strict": 64 << 20, "default": 256 << 20}


@dataclass(frozen=True)
class Secret:
    """A host file no sandbox may read: its token is also its name, so the attack needs no input."""

    path: Path
    token: str  # in the file's name and content: the attack recognises the file by it
    content: str  # the whole content: it must never appear in a sandbox's output


@dataclass
class Kit:
    world_tmp: Path
    exe: Path
    secret: Secret
    host_pid: int
    test_user: Any  # conftest.TestUser
    rootfs: dict[str, Path]
    volume: dict[str, Path]

    def run(self, mode: str, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """`pysandbox run ARGS` as root or as the unprivileged test user."""
        return self.python(mode, ["-m", "pysandbox", "run", *args], **kwargs)

    def python(self, mode: str, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Python with `argv`, as root or as the unprivileged test user (each with its own
        PYSANDBOX_HOME)."""
        kwargs.setdefault("timeout", 240)
        if mode == "rootless":
            kwargs["env"] = {
                "PYSANDBOX_HOME": str(self.world_tmp / "psbhome-security-rootless"),
                **kwargs.get("env", {}),
            }
            result: subprocess.CompletedProcess[str] = self.test_user.run(
                [self.test_user.python, *argv], **kwargs
            )
            return result
        env = {**os.environ, "PYSANDBOX_HOME": str(self.world_tmp / "psbhome-security")}
        env.update(kwargs.pop("env", {}) or {})
        kwargs.setdefault("capture_output", True)
        return subprocess.run([sys.executable, *argv], env=env, text=True, **kwargs)

    def run_attack(self, mode: str, profile: str, attack: list[str], extra: tuple[str, ...] = (),
                   **kwargs: Any) -> subprocess.CompletedProcess[str]:  # fmt: skip
        if mode in API_MODES:  # `attack` as the command of Sandbox(profile, ..., prewarm=2).run
            assert not extra, "the API modes take no CLI flags"
            mode = mode.removesuffix("-prewarm")
            argv = ["-c", API_RUN, profile, str(self.rootfs[mode]), f"{self.volume[mode]}:/vol", *attack]
            return self.python(mode, argv, **kwargs)
        args = [
            "--profile",
            profile,
            "--rootfs",
            str(self.rootfs[mode]),
            "-v",
            f"{self.volume[mode]}:/vol",
            *extra,
        ]
        return self.run(mode, [*args, "--", *attack], **kwargs)


def parse(stdout: str) -> dict[str, tuple[str, str]]:
    """`NAME OUTCOME DETAIL` lines -> {name: (outcome, detail)}."""
    out = {}
    for line in stdout.splitlines():
        name, _, rest = line.partition(" ")
        outcome, _, detail = rest.partition(" ")
        if outcome in ("SUCCEEDED", "BLOCKED", "CRASHED"):
            out[name] = (outcome, detail)
    return out


# --- host state ------------------------------------------------------------------------------------


def host_snapshot(kit: Kit) -> dict[str, Any]:
    """What an escape would change on the host; compared before and after each attack run."""
    snap: dict[str, Any] = {
        "hostname": Path("/proc/sys/kernel/hostname").read_text(),
        "core_pattern": Path("/proc/sys/kernel/core_pattern").read_text(),
        "secret": kit.secret.path.read_text(),
        "secret_dir": sorted(os.listdir(kit.secret.path.parent)),
        "world_tmp_mounts": sorted(
            line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if line.split()[4].startswith(str(kit.world_tmp))
        ),
        "volumes": {m: sorted(os.listdir(v)) for m, v in kit.volume.items()},
        "host_pid_alive": _alive(kit.host_pid),
        "host_pid_traced": _tracer(kit.host_pid),
    }  # fmt: skip
    for agent in sorted(Path("/sys/fs/cgroup").glob("*/release_agent")):
        snap[str(agent)] = agent.read_text()
    return snap


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def _tracer(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("TracerPid:"):
            return line.split()[1]
    return "?"


def host_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        k: (before.get(k), after.get(k))
        for k in before.keys() | after.keys()
        if before.get(k) != after.get(k)
    }


# --- fixtures --------------------------------------------------------------------------------------


def compile_attack(world_tmp: Path) -> Path:
    """The static attack program (attack.c), built once into `world_tmp/attack-bin`."""
    gcc = shutil.which("gcc")
    assert gcc, "gcc is required for the escape suite (Makefile APT_PKGS: gcc libc6-dev)"
    out = world_tmp / "attack-bin"
    out.mkdir(exist_ok=True)
    exe = out / "attack"
    subprocess.run([gcc, "-O1", "-static", "-Wall", "-o", str(exe), str(HERE / "attack.c")], check=True)
    exe.chmod(0o755)
    out.chmod(0o755)
    return exe


def build_attack_rootfs(base: Path, dest: Path, exe: Path, owner: tuple[int, int] | None = None) -> Path:
    """A copy of `base` with /attack and a setuid-root /suid-attack (owned by `owner` if given)."""
    shutil.copytree(base, dest, symlinks=True)
    shutil.copy2(exe, dest / "attack")
    shutil.copy2(exe, dest / "suid-attack")  # a setuid-root binary in the image
    if owner is not None:  # the rootless user's own image: its files are root's inside
        subprocess.run(["chown", "-hR", f"{owner[0]}:{owner[1]}", str(dest)], check=True)
    (dest / "suid-attack").chmod(0o4755)
    return dest


@pytest.fixture(scope="session")
def kit(world_tmp: Path, busybox_rootfs: Path, delegated_user: Any) -> Iterator[Kit]:
    """Rootless sandboxes under strict need the cgroup subtree `pysandbox setup --delegate` makes."""
    test_user = delegated_user
    exe = compile_attack(world_tmp)
    token = f"psbsecret{secrets.token_hex(8)}"
    secret_dir = world_tmp / f"secret-{token}"
    secret_dir.mkdir()
    secret_dir.chmod(0o755)
    secret = Secret(secret_dir / f"{token}.txt", token, f"{token}-content-{secrets.token_hex(8)}")
    secret.path.write_text(secret.content + "\n")
    secret.path.chmod(0o644)
    owners = {"root": None, "rootless": (test_user.uid, test_user.gid)}
    rootfs = {
        m: build_attack_rootfs(busybox_rootfs, world_tmp / f"attack-rootfs-{m}", exe, o)
        for m, o in owners.items()
    }
    volume = {}
    for m, o in owners.items():
        volume[m] = world_tmp / f"attack-vol-{m}"
        volume[m].mkdir()
        if o is not None:
            os.chown(volume[m], *o)
    home = world_tmp / "psbhome-security-rootless"  # this session's own store, not one left by another
    home.mkdir(exist_ok=True)
    os.chown(home, test_user.uid, test_user.gid)
    sleeper = subprocess.Popen(["sleep", "3600"])  # a host process for ptrace attempts
    try:
        yield Kit(world_tmp, exe, secret, sleeper.pid, test_user, rootfs, volume)
    finally:
        sleeper.send_signal(signal.SIGKILL)
        sleeper.wait()
        for path in [*rootfs.values(), *volume.values(), secret_dir]:
            shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Outcome:
    results: dict[str, tuple[str, str]]
    host_changes: dict[str, tuple[Any, Any]]
    stderr: str
    returncode: int


@pytest.fixture(scope="session")
def attack_all(kit: Kit) -> Iterator[Any]:
    """One `attack all` sandbox per (mode, profile), run on first use; each test reads its line."""
    cache: dict[tuple[str, str], Outcome] = {}

    def get(mode: str, profile: str) -> Outcome:
        if (mode, profile) not in cache:
            before = host_snapshot(kit)
            proc = kit.run_attack(
                mode, profile, ["/attack", "all", str(kit.secret.path), str(kit.host_pid), "/vol"]
            )
            after = host_snapshot(kit)
            cache[mode, profile] = Outcome(
                parse(proc.stdout), host_diff(before, after), proc.stderr, proc.returncode
            )
        return cache[mode, profile]

    yield get
