"""Pod Security Standards verdicts per workload, from the PSS aliases of its findings."""

from __future__ import annotations

from pathlib import Path

from pysandbox.audit.config.rules import ALL_RULES
from pysandbox.audit.config.standards import BASELINE_CONTROLS, RESTRICTED_CONTROLS

from .cfg_helpers import audit_fixture, audit_text


def test_restricted_deployment_is_compliant_with_both() -> None:
    (web,) = audit_fixture("k8s-restricted.yaml")
    assert web.verdict("baseline").compliant and web.verdict("restricted").compliant


def test_node_exporter_fails_baseline_controls() -> None:
    (ds,) = audit_fixture("k8s-node-exporter.yaml")
    assert ds.verdict("baseline").failed == (
        "baseline:HostNamespaces",
        "baseline:HostPathVolumes",
        "baseline:HostPorts",
    )
    assert set(ds.verdict("restricted").failed) == {
        "baseline:HostNamespaces",
        "baseline:HostPathVolumes",
        "baseline:HostPorts",
        "restricted:Capabilities",
        "restricted:Seccomp",
        "restricted:VolumeTypes",
    }


def test_baseline_passes_where_only_restricted_controls_fail(tmp_path: Path) -> None:
    (pod,) = audit_text(
        tmp_path,
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: plain}
        spec:
          containers:
            - name: app
              image: registry.example.com/app:1.0
              resources: {limits: {cpu: 100m, memory: 64Mi}}
        """,
    )
    assert pod.verdict("baseline").compliant
    assert pod.verdict("restricted").failed == (
        "restricted:Capabilities",
        "restricted:PrivilegeEscalation",
        "restricted:RunningAsNonRoot",
        "restricted:Seccomp",
    )


def test_every_pss_alias_names_a_real_control() -> None:
    for rule in ALL_RULES:
        for alias in rule.aliases:
            if alias.startswith("PSS-baseline:"):
                assert alias.split(":")[1] in BASELINE_CONTROLS, (rule.id, alias)
            elif alias.startswith("PSS-restricted:"):
                assert alias.split(":")[1] in RESTRICTED_CONTROLS, (rule.id, alias)
            else:
                assert alias.startswith(("docker-bench:", "CKV_K8S_", "CKV_DOCKER_")), (rule.id, alias)


def test_rule_ids_are_unique_and_every_pss_control_is_covered() -> None:
    ids = [r.id for r in ALL_RULES]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    covered = {a for r in ALL_RULES for a in r.aliases}
    assert {f"PSS-baseline:{c}" for c in BASELINE_CONTROLS} <= covered
    assert {f"PSS-restricted:{c}" for c in RESTRICTED_CONTROLS} <= covered
