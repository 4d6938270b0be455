"""Fixtures shared by the whole suite: a private PYSANDBOX_HOME, a busybox rootfs, and the
unprivileged user (created when the suite runs as root) with an interpreter it can execute."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_USER = "psbtest"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
# Mirrors of the venv for the unprivileged user leave these out: big, and not needed to run sandboxes.
_MIRROR_SKIP = (
    "mypy", "kubernetes_validate", "pip", "setuptools", "ruff", "trivy", "hadolint", "__editable__",
    "_pytest", "pytest", "jsonschema", "__pycache__",
)  # fmt: skip


# `make test` runs as root (CI does); a developer running the suite unprivileged gets the rootless half.
requires_root = pytest.mark.skipif(os.geteuid() != 0, reason="root-mode case: run the suite as root")
requires_x86_64 = pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86_64 instruction set only")


@pytest.fixture(autouse=True)
def psb_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own PYSANDBOX_HOME (DESIGN.md: tests never touch the real store)."""
    home = tmp_path_factory.mktemp("psbhome")
    home.chmod(0o755)
    monkeypatch.setenv("PYSANDBOX_HOME", str(home))
    return home


def make_busybox_rootfs(dest: Path) -> Path:
    """A static busybox root: /bin with every applet, /etc/passwd and group, empty mount points."""
    for d in ("bin", "sbin", "etc", "proc", "dev", "sys", "tmp", "root", "home", "var", "usr/bin", "mnt"):
        (dest / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, dest / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        link = dest / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (dest / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    )
    (dest / "etc" / "group").write_text("root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n")
    (dest / "tmp").chmod(0o1777)
    for p in [dest, *dest.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o055 if p.is_dir() else p.stat().st_mode | 0o044)
    return dest


@pytest.fixture(scope="session")
def world_tmp() -> Iterator[Path]:
    """A temp dir every user can enter (pytest's own tmp dirs are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="psb-test-", dir="/var/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def busybox_rootfs(world_tmp: Path) -> Path:
    return make_busybox_rootfs(world_tmp / "busybox-rootfs")


@dataclass(frozen=True)
class TestUser:
    name: str
    uid: int
    gid: int
    home: Path
    python: str  # an interpreter with pysandbox importable, executable by this user

    def run(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run argv as this user, with PYSANDBOX_HOME in the user's own home."""
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": str(self.home),
            "PYSANDBOX_HOME": str(self.home / "psbhome"),
            "LANG": "C.UTF-8",
        }
        env.update(kwargs.pop("env", {}) or {})  # type: ignore[arg-type]
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("timeout", 60)
        return subprocess.run(
            argv,
            user=self.uid,
            group=self.gid,
            extra_groups=[],
            env=env,
            text=True,
            cwd=str(self.home),
            **kwargs,
        )  # type: ignore[call-overload,no-any-return]

    def pysandbox(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return self.run([self.python, "-m", "pysandbox", *args], **kwargs)


def _ensure_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        pass
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", TEST_USER], check=True)
    entry = pwd.getpwnam(TEST_USER)
    for f in ("/etc/subuid", "/etc/subgid"):
        text = Path(f).read_text() if Path(f).exists() else ""
        if not any(line.split(":")[0] == TEST_USER for line in text.splitlines()):
            with open(f, "a") as fh:
                fh.write(f"{TEST_USER}:{200000 + 65536 * (entry.pw_uid % 100)}:65536\n")
    return entry


def _python_mirror(root: Path) -> str:
    """A venv of Debian's python3 with a copy of our site-packages and of the pysandbox sources."""
    venv = root / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    python = str(venv / "bin" / "python")
    found = subprocess.run([python, "-c", purelib], capture_output=True, text=True, check=True)
    dest = Path(found.stdout.strip())
    src = Path(sysconfig.get_paths()["purelib"])
    for entry in src.iterdir():
        if entry.name.startswith(_MIRROR_SKIP):
            continue
        target = dest / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(entry, target)
    shutil.copytree(REPO / "pysandbox", dest / "pysandbox", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["chmod", "-R", "a+rX", str(root)], check=True)
    return str(venv / "bin" / "python")


@pytest.fixture(scope="session")
def test_user(world_tmp: Path) -> TestUser:
    """The unprivileged user for rootless cases: created when the suite runs as root, else the caller."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return TestUser(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir), sys.executable)
    entry = _ensure_user()
    home = Path(entry.pw_dir)
    digest = hashlib.sha256(str(REPO).encode()).hexdigest()[:8]
    python = _python_mirror(world_tmp / f"rootless-{digest}")
    (home / "psbhome").mkdir(exist_ok=True)
    os.chown(home / "psbhome", entry.pw_uid, entry.pw_gid)
    return TestUser(entry.pw_name, entry.pw_uid, entry.pw_gid, home, python)


@pytest.fixture
def psb() -> list[str]:
    """The command prefix that runs this checkout's CLI with the test interpreter."""
    return [sys.executable, "-m", "pysandbox"]
