"""mountrisk.assess: the one judgement of host mounts, for the launcher's -v and for PSB-A018."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pysandbox.audit.mountrisk import assess, normalize
from pysandbox.types import Severity

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW


@pytest.mark.parametrize(
    ("source", "read_only", "severity"),
    [
        ("/var/run/docker.sock", True, C),
        ("/run/docker.sock", False, C),
        ("/run/containerd/containerd.sock", True, C),
        ("/var/run/crio/crio.sock", True, C),
        ("/", True, C),
        ("/var/run", True, C),
        ("/run", False, C),
        ("/var", True, C),  # contains /var/run
        ("/proc", False, C),
        ("/proc", True, H),
        ("/sys", True, M),
        ("/sys/fs/cgroup", False, H),
        ("/dev", True, H),
        ("/etc", True, H),
        ("/etc", False, C),
        ("/etc/shadow", True, H),
        ("/root", True, H),
        ("/home", True, H),
        ("/home/alice", True, H),
        ("/home/alice/.ssh", True, H),
        ("/boot", False, C),
        ("/lib/modules", True, M),
        ("/var/lib/docker", True, H),
        ("/var/lib/kubelet/pods", True, H),
        ("/usr/local/bin", False, H),
        ("/etc/nginx/nginx.conf", True, L),
    ],
)
def test_sensitive_paths(source: str, read_only: bool, severity: Severity) -> None:
    f = assess(source, "/mnt", read_only, resolve_symlinks=False)
    assert f is not None and f.severity == severity, (source, f)
    assert f.rule_id == "PSB-A018" and "docker-bench:5.5" in f.aliases


@pytest.mark.parametrize(
    "source",
    [
        "/srv/data",
        "/etc-foo",
        "/etc-foo/bar",
        "/homework",
        "/home/alice/project",
        "/usr/share/zoneinfo",
        "/etc/localtime",
        "/etc/ssl/certs",
        "/dev/null",
        "/procfs",
        "/opt/app/data",
    ],
)
def test_ordinary_paths_pass(source: str) -> None:
    assert assess(source, "/mnt", True, resolve_symlinks=False) is None


def test_dot_dot_trailing_and_double_slashes_are_resolved() -> None:
    assert normalize("//etc//") == "/etc"
    assert normalize("/srv/../etc/./") == "/etc"
    assert normalize("/var/run/docker.sock") == "/run/docker.sock"
    f = assess("/srv/../../etc/", "/x", False, resolve_symlinks=False)
    assert f is not None and f.severity == C


def test_socket_risk_ignores_read_only() -> None:
    rw = assess("/var/run/docker.sock", "/s", False, resolve_symlinks=False)
    ro = assess("/var/run/docker.sock", "/s", True, resolve_symlinks=False)
    assert rw is not None and ro is not None and rw.severity == ro.severity == C
    assert "docker-bench:5.31" in ro.aliases and "CKV_K8S_27" in ro.aliases


def test_symlink_to_a_sensitive_path_is_caught(tmp_path: Path) -> None:
    link = tmp_path / "innocent"
    link.symlink_to("/etc")
    f = assess(str(link), "/data", True)
    assert f is not None and f.severity == H and "(/etc)" in f.message
    assert assess(str(link), "/data", True, resolve_symlinks=False) is None


def test_relative_source_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "etc").mkdir()
    monkeypatch.chdir(tmp_path)
    assert assess("etc", "/x", False) is None  # ./etc, not /etc
    monkeypatch.chdir("/")
    f = assess("etc", "/x", False)
    assert f is not None and f.severity == C


def test_finding_names_source_target_and_mode() -> None:
    f = assess("/etc", "/host-etc", False, resolve_symlinks=False)
    assert f is not None
    assert f.message.startswith("host /etc mounted read-write at /host-etc: ")
    assert f.location.path == "/etc" and f.fix
    assert f.extra == {"source": "/etc", "target": "/host-etc", "read_only": False, "matched": "/etc"}


def test_import_stays_light() -> None:
    """The launcher imports mountrisk on the `run` fast path: no yaml, pydantic or typer."""
    code = (
        "import sys; import pysandbox.audit.mountrisk as m; m.assess('/etc', '/x', True); "
        "print(sorted(n for n in ('yaml', 'pydantic', 'typer', 'rich') if n in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    assert out.stdout.strip() == "[]"
