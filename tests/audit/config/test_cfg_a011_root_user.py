from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pysandbox.audit.config.engine import audit_files
from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_kubernetes_root_unset_and_uid_without_run_as_non_root() -> None:
    found = {f.extra["container"]: f for f in of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A011")}
    assert found["prune"].severity == Severity.HIGH and found["prune"].location.line == 29
    assert "PSS-restricted:RunningAsNonRootUser" in found["prune"].aliases
    assert found["wait"].severity == Severity.MEDIUM and "may run as root" in found["wait"].message
    assert found["wait"].aliases == ("PSS-restricted:RunningAsNonRoot", "CKV_K8S_23")
    (uid_only,) = of(audit_fixture("k8s-list.json"), "PSB-A011")
    assert uid_only.severity == Severity.LOW and uid_only.aliases == ("PSS-restricted:RunningAsNonRoot",)


def test_pod_level_run_as_non_root_is_inherited() -> None:
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A011") == []
    assert of(audit_fixture("k8s-node-exporter.yaml"), "PSB-A011") == []


def test_compose_and_docker_inspect_users() -> None:
    compose = {f.extra["workload"]: f for f in of(audit_fixture("compose-risky.yml"), "PSB-A011")}
    assert list(compose) == ["service/debugger"]  # worker runs as 1000
    assert (
        compose["service/debugger"].severity == Severity.HIGH
        and compose["service/debugger"].location.line == 15
    )
    inspect = of(audit_fixture("docker-inspect.json"), "PSB-A011")
    assert [(f.extra["workload"], f.severity) for f in inspect] == [("container/portainer", Severity.HIGH)]
    assert "docker-bench:4.1" in inspect[0].aliases


def test_oci_root_with_and_without_user_namespace(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    (f,) = of(audit_files([tmp_path / "config.json"]), "PSB-A011")
    assert f.severity == Severity.HIGH and "without a user namespace" in f.message
    rootless = tmp_path / "rootless"
    rootless.mkdir()
    subprocess.run(["runc", "spec", "--rootless"], cwd=rootless, check=True)
    (f,) = of(audit_files([rootless / "config.json"]), "PSB-A011")
    assert f.severity == Severity.LOW and "inside a user namespace" in f.message
    spec = json.loads((rootless / "config.json").read_text())
    spec["process"]["user"]["uid"] = 1000
    (rootless / "config.json").write_text(json.dumps(spec))
    assert of(audit_files([rootless / "config.json"]), "PSB-A011") == []
