from __future__ import annotations

from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_kubernetes_container_without_seccomp_profile() -> None:
    (f,) = of(audit_fixture("k8s-node-exporter.yaml"), "PSB-A008")
    assert f.severity == Severity.MEDIUM and f.location.line == 25
    assert f.aliases == ("PSS-restricted:Seccomp", "CKV_K8S_31")


def test_runtime_default_passes_and_other_formats_are_not_asked() -> None:
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A008") == []
    assert of(audit_fixture("compose-monitoring.yml"), "PSB-A008") == []
    assert of(audit_fixture("docker-inspect.json"), "PSB-A008") == []
