from __future__ import annotations

import subprocess
from pathlib import Path

from pysandbox.audit.config.engine import audit_files
from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_kubernetes_explicit_true_and_unset() -> None:
    found = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A010")
    by_container = {f.extra["container"]: f for f in found}
    assert by_container["prune"].severity == Severity.MEDIUM and by_container["prune"].location.line == 30
    assert by_container["wait"].severity == Severity.LOW
    assert all(
        set(f.aliases) == {"PSS-restricted:PrivilegeEscalation", "docker-bench:5.25", "CKV_K8S_20"}
        for f in found
    )


def test_compose_no_new_privileges() -> None:
    found = of(audit_fixture("compose-risky.yml"), "PSB-A010")
    assert [(f.extra["workload"], f.severity) for f in found] == [
        ("service/debugger", Severity.MEDIUM),
        ("service/worker", Severity.LOW),
    ]
    assert of(audit_fixture("compose-hardened.yml"), "PSB-A010") == []


def test_oci_no_new_privileges_false(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    path = tmp_path / "config.json"
    assert of(audit_files([path]), "PSB-A010") == []
    path.write_text(path.read_text().replace('"noNewPrivileges": true', '"noNewPrivileges": false'))
    (f,) = of(audit_files([path]), "PSB-A010")
    assert "process.noNewPrivileges is false" in f.message and f.severity == Severity.MEDIUM
