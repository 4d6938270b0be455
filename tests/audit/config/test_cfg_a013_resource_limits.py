from __future__ import annotations

from pysandbox.types import Finding

from .cfg_helpers import audit_fixture, of


def _missing(findings: list[Finding]) -> set[str]:
    return {f.message.split("has no ")[1].split(" limit")[0] for f in findings}


def test_compose_limits_top_level_and_deploy() -> None:
    audits = audit_fixture("compose-risky.yml")
    assert _missing(of(audits, "PSB-A013", "service/debugger")) == {"CPU", "PIDs"}  # deploy memory counts
    assert _missing(of(audits, "PSB-A013", "service/worker")) == {"memory", "CPU", "PIDs"}
    assert of(audit_fixture("compose-hardened.yml"), "PSB-A013") == []


def test_kubernetes_has_no_pids_limit_to_ask_for() -> None:
    found = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A013")
    assert _missing(found) == {"memory", "CPU"}
    memory = next(f for f in found if "memory" in f.message)
    assert set(memory.aliases) == {"docker-bench:5.10", "CKV_K8S_13"}
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A013") == []


def test_docker_inspect_zero_means_unlimited() -> None:
    audits = audit_fixture("docker-inspect.json")
    assert _missing(of(audits, "PSB-A013", "container/portainer")) == {"memory", "CPU", "PIDs"}
    assert of(audits, "PSB-A013", "container/sysdebug") == []
