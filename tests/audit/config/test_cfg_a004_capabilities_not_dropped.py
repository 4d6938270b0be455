from __future__ import annotations

from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_compose_without_cap_drop_all() -> None:
    found = of(audit_fixture("compose-monitoring.yml"), "PSB-A004")
    assert {f.extra["workload"] for f in found} == {"service/portainer", "service/node-exporter"}
    assert all(f.severity == Severity.LOW and "CKV_K8S_37" in f.aliases for f in found)


def test_privileged_and_drop_all_are_not_reported() -> None:
    audits = audit_fixture("compose-monitoring.yml")
    assert of(audits, "PSB-A004", "service/cadvisor") == []  # privileged: PSB-A001 says it all
    assert of(audit_fixture("compose-hardened.yml"), "PSB-A004") == []
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A004") == []


def test_kubernetes_init_container_counts() -> None:
    found = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A004")
    assert [f.extra["container"] for f in found] == ["wait"]
    assert "init container wait" in found[0].message
