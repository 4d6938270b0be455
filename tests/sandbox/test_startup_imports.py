"""`pysandbox run` keeps heavy modules off its path (issue 2: start-up latency is a feature).

Each module below costs milliseconds to import on the machines the benchmarks ran on (typing
alone ~13 ms, re ~10 ms, enum ~6 ms), which is the margin between a cold launch and runc's. The
guard runs the console entry point as the installed script does and reads every import from
`-X importtime`, so a new `from typing import Any` on the path fails here, not in a benchmark.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import requires_root

# Never on the run path, audit log or not.
HEAVY = frozenset({
    "typing", "re", "enum", "json", "socket", "signal", "selectors", "collections", "contextlib",
    "functools", "pathlib", "dataclasses", "inspect", "subprocess", "yaml", "pydantic", "typer",
    "rich", "pyseccomp", "operator",
})  # fmt: skip
# The audit log's own cost, absent when the profile turns it off.
AUDIT = frozenset({"_sqlite3", "sqlite3", "threading", "hashlib"})
# The strict profile observes seccomp denials with a thread of its own: `_thread` does.
THREADS = frozenset({"threading"})

ENTRY = "import sys; from pysandbox.__main__ import main; sys.argv[0] = 'pysandbox'; main()"


def imported(argv: list[str], home: Path) -> set[str]:
    env = {"PYSANDBOX_HOME": str(home), "PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-X", "importtime", "-c", ENTRY, *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")
    } - {"package"}


def steady(argv: list[str], home: Path) -> set[str]:
    """The imports of a launch once its first runs are past: the first validates and caches the
    profile (pydantic, yaml), the second writes the bundle of the run path's modules (importcache;
    the write, after the workload, loads pathlib and fsutil). Later runs are this third one."""
    imported(argv, home)
    imported(argv, home)
    return imported(argv, home)


@pytest.fixture
def audit_off(tmp_path: Path) -> Path:
    profile = tmp_path / "quiet.yaml"
    profile.write_text('name: quiet\naudit: "off"\n')
    return profile


def test_run_imports_no_heavy_module(busybox_rootfs: Path, audit_off: Path, tmp_path: Path) -> None:
    argv = ["run", "--profile", str(audit_off), "--rootfs", str(busybox_rootfs), "--", "/bin/true"]
    modules = steady(argv, tmp_path / "home")
    assert "pysandbox.sandbox.launcher" in modules  # the guard sees the launch itself
    assert modules & (HEAVY | AUDIT) == set()


def test_run_with_audit_log_imports_no_heavy_module(busybox_rootfs: Path, tmp_path: Path) -> None:
    argv = ["run", "--rootfs", str(busybox_rootfs), "--", "/bin/true"]
    modules = steady(argv, tmp_path / "home")
    assert "pysandbox.audit.store" in modules
    # _sqlite3's init asks for functools (and with it collections): it gets a stand-in
    assert modules & HEAVY == set()
    assert "sqlite3" not in modules  # the package: datetime adapters the log does not use
    assert "pysandbox.audit.sinks" not in modules  # no sink configured: nothing to load


def test_run_loads_the_sinks_only_when_configured(busybox_rootfs: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text(f"audit:\n  sinks:\n    - jsonl:{tmp_path / 'events.jsonl'}\n")
    argv = ["run", "--rootfs", str(busybox_rootfs), "--", "/bin/true"]
    assert "pysandbox.audit.sinks" in imported(argv, home)
    assert (tmp_path / "events.jsonl").read_text().count("\n") >= 3  # create, start, exit


@requires_root  # strict sets cgroup limits: root, or a user `setup --delegate` prepared
def test_strict_run_imports_no_heavy_module(busybox_rootfs: Path, tmp_path: Path) -> None:
    """strict adds cgroup limits and denial observation (the seccomp listener's hand-off and thread)."""
    argv = ["run", "--profile", "strict", "--rootfs", str(busybox_rootfs), "--", "/bin/true"]
    modules = steady(argv, tmp_path / "home")
    assert {"pysandbox.sandbox.cgroups", "pysandbox.audit.store"} <= modules
    assert modules & (HEAVY | THREADS) == set()
