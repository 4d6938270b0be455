from __future__ import annotations

from pathlib import Path

from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, audit_text, of


def test_privileged_compose_service_is_critical_at_its_line() -> None:
    found = of(audit_fixture("compose-monitoring.yml"), "PSB-A001")
    assert [(f.location.line, f.severity) for f in found] == [(15, Severity.CRITICAL)]
    assert "service cadvisor" in found[0].message
    assert {"PSS-baseline:PrivilegedContainers", "docker-bench:5.4", "CKV_K8S_16"} <= set(found[0].aliases)


def test_privileged_kubernetes_container_names_the_container() -> None:
    (f,) = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A001")
    assert f.location.line == 28
    assert "CronJob image-prune, container prune" in f.message
    assert f.extra["container"] == "prune"


def test_host_process_is_reported_under_its_own_control(tmp_path: Path) -> None:
    audits = audit_text(
        tmp_path,
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: win}
        spec:
          securityContext:
            windowsOptions: {hostProcess: true}
          containers:
            - name: agent
              image: mcr.microsoft.com/windows/nanoserver:ltsc2022
        """,
    )
    (f,) = of(audits, "PSB-A001")
    assert f.aliases == ("PSS-baseline:HostProcess",)


def test_unprivileged_workloads_pass() -> None:
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A001") == []
    assert of(audit_fixture("compose-hardened.yml"), "PSB-A001") == []
