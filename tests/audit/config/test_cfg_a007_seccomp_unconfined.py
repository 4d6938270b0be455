from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pysandbox.audit.config.engine import audit_files
from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_pod_level_unconfined_applies_to_every_container() -> None:
    found = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A007")
    assert sorted(f.extra["container"] for f in found) == ["prune", "wait"]
    assert {f.location.line for f in found} == {18}
    assert all({"PSS-baseline:Seccomp", "docker-bench:5.21", "CKV_K8S_31"} <= set(f.aliases) for f in found)


def test_compose_security_opt() -> None:
    (f,) = of(audit_fixture("compose-risky.yml"), "PSB-A007")
    assert f.location.line == 5 and f.severity == Severity.HIGH


def test_oci_without_filter_and_with_allow_default(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    path = tmp_path / "config.json"
    (f,) = of(audit_files([path]), "PSB-A007")  # runc spec writes no seccomp section
    assert "no linux.seccomp filter" in f.message
    spec = json.loads(path.read_text())
    spec["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}],
    }
    path.write_text(json.dumps(spec))
    (f,) = of(audit_files([path]), "PSB-A007")
    assert f.severity == Severity.MEDIUM and "SCMP_ACT_ALLOW" in f.message
    spec["linux"]["seccomp"]["defaultAction"] = "SCMP_ACT_ERRNO"
    path.write_text(json.dumps(spec))
    assert of(audit_files([path]), "PSB-A007") == []


def test_unset_is_docker_default_in_compose() -> None:
    assert of(audit_fixture("compose-monitoring.yml"), "PSB-A007") == []
