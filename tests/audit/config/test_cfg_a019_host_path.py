from __future__ import annotations

from pathlib import Path

from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, audit_text, of


def test_benign_host_paths_are_low_or_info_and_fail_pss() -> None:
    found = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A019")
    assert [(f.location.line, f.severity) for f in found] == [(46, Severity.LOW), (50, Severity.LOW)]
    assert "(declared, not mounted)" in found[1].message
    assert set(found[0].aliases) == {"PSS-baseline:HostPathVolumes", "PSS-restricted:VolumeTypes"}
    (project,) = of(audit_fixture("compose-hardened.yml"), "PSB-A019")
    assert project.severity == Severity.INFO and "project directory ./config" in project.message


def test_hostpath_type_socket_without_known_path(tmp_path: Path) -> None:
    audits = audit_text(
        tmp_path,
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - name: a
              image: x
              volumeMounts: [{name: s, mountPath: /run/agent.sk}]
          volumes:
            - name: s
              hostPath: {path: /var/lib/agent/agent.sk, type: Socket}
        """,
    )
    (f,) = of(audits, "PSB-A019")
    assert f.severity == Severity.HIGH and f.location.line == 11


def test_relative_path_leaving_the_project_is_judged_where_it_lands(tmp_path: Path) -> None:
    audits = audit_text(tmp_path, "services:\n  a:\n    image: x\n    volumes: ['../shared:/shared']\n")
    (f,) = of(audits, "PSB-A019")
    assert f"host {tmp_path.parent}/shared at /shared" in f.message
