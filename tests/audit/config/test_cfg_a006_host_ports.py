from __future__ import annotations

from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_kubernetes_host_port() -> None:
    (f,) = of(audit_fixture("k8s-node-exporter.yaml"), "PSB-A006")
    assert f.location.line == 34 and f.severity == Severity.MEDIUM
    assert set(f.aliases) == {"PSS-baseline:HostPorts", "CKV_K8S_26"}
    assert "host port 9100" in f.message


def test_compose_ports_short_and_long_syntax() -> None:
    found = of(audit_fixture("compose-risky.yml"), "PSB-A006")
    assert [(f.location.line, f.severity) for f in found] == [(27, Severity.LOW), (28, Severity.INFO)]
    assert "docker-bench:5.7" in found[0].aliases  # host port 80 is privileged
    assert "127.0.0.1" in found[1].message and "docker-bench:5.13" not in found[1].aliases


def test_docker_inspect_port_bindings() -> None:
    found = of(audit_fixture("docker-inspect.json"), "PSB-A006")
    assert [(f.location.line, f.severity) for f in found] == [(20, Severity.LOW), (21, Severity.INFO)]


def test_container_port_without_host_port_passes() -> None:
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A006") == []
