from __future__ import annotations

from pathlib import Path

from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, audit_text, of


def test_monitoring_stack_mounts() -> None:
    found = of(audit_fixture("compose-monitoring.yml"), "PSB-A018")
    got = [(f.location.line, f.severity) for f in found]
    assert got == [
        (10, Severity.CRITICAL),
        (21, Severity.CRITICAL),
        (22, Severity.CRITICAL),
        (23, Severity.MEDIUM),
        (24, Severity.HIGH),
        (25, Severity.HIGH),
        (33, Severity.CRITICAL),
    ]
    sock = found[0]
    assert {"docker-bench:5.31", "CKV_K8S_27", "PSS-baseline:HostPathVolumes"} <= set(sock.aliases)


def test_kubernetes_points_at_the_host_path_line() -> None:
    found = of(audit_fixture("k8s-node-exporter.yaml"), "PSB-A018")
    assert [f.location.line for f in found] == [57, 60, 63]  # the hostPath.path lines, not the volumeMounts
    assert "(volume root) at /host/root read-only" in found[2].message
    (sock,) = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A018")
    assert sock.severity == Severity.CRITICAL and sock.location.line == 42


def test_variables_home_and_named_volume_binds() -> None:
    found = of(audit_fixture("compose-risky.yml"), "PSB-A018")
    messages = {f.location.line: f for f in found}
    assert "~/.ssh" in messages[33].message and messages[33].severity == Severity.HIGH
    assert "host /etc at /host-etc read-write" in messages[40].message  # volume `etc` binds /etc
    assert messages[40].severity == Severity.CRITICAL


def test_dot_dot_and_prefixes(tmp_path: Path) -> None:
    audits = audit_text(
        tmp_path,
        """\
        services:
          a:
            image: x
            volumes:
              - /srv/../etc/:/x:ro
              - /etc-backup:/y:ro
              - /home/dev/project:/src
              - ./data/../..:/up
        """,
    )
    found = of(audits, "PSB-A018")
    assert [f.location.line for f in found] == [5]
    assert "host /etc at /x" in found[0].message and found[0].severity == Severity.HIGH


def test_hardened_and_restricted_pass() -> None:
    assert of(audit_fixture("compose-hardened.yml"), "PSB-A018") == []
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A018") == []
