"""The `run` path's import bundle (pysandbox/importcache.py): real `pysandbox run`s, from a copy of
the package, with the test's own PYSANDBOX_HOME, read through `python -v`'s account of every import."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# python -v: "import 'pysandbox.sandbox.api' # <pysandbox.importcache.BundleFinder object at 0x...>"
_IMPORT = re.compile(r"^import '([\w.]+)' # <([\w.]+) object", re.MULTILINE)


INDEX = (
    "from pysandbox import importcache\n"
    "print(*sorted(importcache._index(open(importcache.bundle_path(), 'rb').read())))\n"
)


def copy_of_package(dest: Path) -> Path:
    shutil.copytree(REPO / "pysandbox", dest / "pysandbox", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of the package, with no compiled files yet."""
    return copy_of_package(tmp_path / "install")


def writing_bytecode() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(root: Path, *flags: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python [flags] -m pysandbox run -- /bin/true` from the copy, bytecode writing on."""
    proc = subprocess.run(
        [sys.executable, *flags, "-m", "pysandbox", "run", "--", "/bin/true"],
        cwd=root,
        env={**writing_bytecode(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def python(root: Path, code: str) -> str:
    """`python -c CODE` from the copy; its output."""
    argv = [sys.executable, "-c", code]
    proc = subprocess.run(argv, cwd=root, env=writing_bytecode(), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def loaders(stderr: str) -> dict[str, str]:
    """Module -> the class of the loader that ran it, in the launcher (PID 1 imports nothing)."""
    return dict((name, loader) for name, loader in _IMPORT.findall(stderr))


def served(stderr: str) -> set[str]:
    return {name for name, loader in loaders(stderr).items() if loader.endswith("BundleFinder")}


def usual(stderr: str) -> set[str]:
    return {name for name, loader in loaders(stderr).items() if loader.endswith("SourceFileLoader")}


def bundle(root: Path) -> Path:
    """The bundle of the copy at `root`, in the test's PYSANDBOX_HOME."""
    return Path(python(root, "from pysandbox import importcache\nprint(importcache.bundle_path())").strip())


def written(root: Path) -> None:
    """Two runs: the first fills PYSANDBOX_HOME's profile cache, the second writes the bundle."""
    run(root)
    run(root)
    assert bundle(root).is_file()


def test_the_bundle_holds_what_a_launch_imports_not_a_profiles_validation(package: Path) -> None:
    written(package)
    index = python(package, INDEX)
    assert "pysandbox.sandbox.launcher" in index and "ctypes" in index
    assert "pydantic" not in index and "typing" not in index
    # the first run in another home validates the profile again: it writes no bundle there
    other_home = package / "other-home"
    run(package, env={"PYSANDBOX_HOME": str(other_home)})
    assert (other_home / "cache").is_dir() and not list(other_home.rglob("*.bundle"))


def test_past_its_limit_the_bundle_starts_again_from_the_writing_run(package: Path) -> None:
    written(package)
    probe = (
        "from pysandbox import importcache\n"
        "importcache.MAX_BYTES = 1\n"
        "importcache.install()\n"
        "import pysandbox.fsutil\n"  # not on the launch path: imported the usual way
        "importcache.save()\n"
    )
    python(package, probe)
    index = python(package, INDEX).split()
    assert "pysandbox.fsutil" in index
    assert "pysandbox.sandbox.launcher" not in index  # the probe did not import it


def test_a_run_writes_the_bundle_and_the_next_serves_its_imports(package: Path) -> None:
    run(package)  # the first run in a new PYSANDBOX_HOME validates the profile: it writes nothing
    assert not bundle(package).exists()
    first = run(package, "-v")
    assert not served(first.stderr)
    assert {"pysandbox.sandbox.api", "pysandbox.sandbox.launcher", "ctypes"} <= usual(first.stderr)
    assert bundle(package).is_file()

    second = run(package, "-v")
    expected = {"pysandbox.cli_run", "pysandbox.sandbox.api", "pysandbox.sandbox.launcher", "ctypes"}
    assert expected | {"pysandbox.audit.store"} <= served(second.stderr)
    # loaded before the finder: the package, the finder and where it looks (__main__ runs as a script)
    ours = {m for m in usual(second.stderr) if m.startswith("pysandbox")}
    assert ours == {"pysandbox", "pysandbox.importcache", "pysandbox.paths"}


def test_an_edited_module_runs_from_its_source_and_is_bundled_again(package: Path) -> None:
    written(package)
    spec = package / "pysandbox" / "sandbox" / "spec.py"
    spec.write_text(spec.read_text() + "\nEDITED = 'yes'\n")

    edited = run(package, "-v")
    assert "pysandbox.sandbox.spec" in usual(edited.stderr)
    assert "pysandbox.sandbox.api" in served(edited.stderr)
    probe = (
        "import sys\n"
        "from pysandbox import importcache\n"
        "importcache.install()\n"
        "import pysandbox.sandbox.spec as spec\n"
        "print(spec.EDITED, type(spec.__loader__).__name__, spec.__file__)\n"
    )
    # the edit, served from the bundle written again
    assert python(package, probe).split() == ["yes", "BundleFinder", str(spec)]


@pytest.mark.parametrize(
    "content",
    [
        b"garbage",
        b"psb-bundle\0" + b"\x00\x00\r\n" + b"\x10\x00\x00\x00",  # another interpreter's magic
        b"",
    ],
    ids=["garbage", "other-magic", "empty"],
)
def test_a_damaged_or_foreign_bundle_is_ignored_then_replaced(package: Path, content: bytes) -> None:
    written(package)
    bundle(package).write_bytes(content)
    proc = run(package, "-v")
    assert not served(proc.stderr)
    assert "pysandbox.sandbox.api" in usual(proc.stderr)
    assert "pysandbox.sandbox.api" in served(run(package, "-v").stderr)


def test_a_truncated_bundle_is_ignored(package: Path) -> None:
    written(package)
    data = bundle(package).read_bytes()
    bundle(package).write_bytes(data[: len(data) // 2])
    proc = run(package, "-v")
    assert not served(proc.stderr)


def test_no_bundle_when_bytecode_is_not_written(package: Path) -> None:
    run(package)
    run(package, env={"PYTHONDONTWRITEBYTECODE": "1"})
    run(package, "-B")
    assert not bundle(package).exists()


def test_served_modules_keep_their_sources_for_tracebacks_and_inspect(package: Path) -> None:
    written(package)
    probe = (
        "import inspect, traceback\n"
        "from pysandbox import importcache\n"
        "importcache.install()\n"
        "import pysandbox.cli_run as cli_run\n"
        "assert type(cli_run.__loader__).__name__ == 'BundleFinder'\n"
        "print(cli_run.__file__)\n"
        "print(inspect.getsource(cli_run._check).splitlines()[0])\n"
        "try:\n"
        "    cli_run.parse(['--no-such-flag'])\n"
        "except Exception:\n"
        "    print(traceback.format_exc())\n"
    )
    out = python(package, probe)
    lines = out.splitlines()
    assert lines[0] == str(package / "pysandbox" / "cli_run.py")
    assert lines[1] == "def _check(opts: Options) -> None:"
    assert 'raise _fail(f"unknown option {name!r}' in out  # the source line, in the traceback


@pytest.mark.parametrize("change", ["group-writable", "another-owner", "symlink"])
def test_a_bundle_someone_else_could_have_written_is_not_used(package: Path, change: str) -> None:
    written(package)
    path = bundle(package)
    if change == "group-writable":
        path.chmod(0o620)
    elif change == "another-owner":
        os.chown(path, 65534, 65534)  # the suite runs as root
    else:  # a link to a file of the user's own, planted in a home others can write
        moved = path.with_name("elsewhere")
        path.rename(moved)
        path.symlink_to(moved)
    proc = run(package, "-v")
    assert not served(proc.stderr)
    assert "pysandbox.sandbox.api" in usual(proc.stderr)
    st = path.stat()  # written again, as the user's own
    assert (st.st_uid, st.st_mode & 0o777) == (os.geteuid(), 0o600)


def test_installations_sharing_a_home_keep_bundles_of_their_own(package: Path, tmp_path: Path) -> None:
    other = copy_of_package(tmp_path / "other-install")
    written(package)
    assert bundle(other) != bundle(package)
    proc = run(other, "-v")
    assert not served(proc.stderr)  # not the first installation's modules
    run(other)  # its profiles are other files: its first run validated them and wrote nothing
    assert "pysandbox.sandbox.api" in served(run(other, "-v").stderr)
