from __future__ import annotations

from pathlib import Path

from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, audit_text, of


def test_capability_outside_baseline_fails_baseline_too() -> None:
    (f,) = of(audit_fixture("k8s-docker-cronjob.yaml"), "PSB-A003")
    assert "IPC_LOCK, CHOWN" in f.message and "IPC_LOCK beyond the baseline set" in f.message
    assert f.severity == Severity.LOW
    assert "PSS-baseline:Capabilities" in f.aliases


def test_baseline_capability_only_fails_restricted(tmp_path: Path) -> None:
    audits = audit_text(
        tmp_path,
        """\
        services:
          web:
            image: nginx:1.25
            cap_drop: [ALL]
            cap_add: [CHOWN, SETUID, NET_BIND_SERVICE]
        """,
    )
    (f,) = of(audits, "PSB-A003")
    assert f.severity == Severity.INFO
    assert "adds capabilities CHOWN, SETUID (" in f.message
    assert "PSS-baseline:Capabilities" not in f.aliases and "PSS-restricted:Capabilities" in f.aliases


def test_net_bind_service_alone_is_allowed() -> None:
    assert of(audit_fixture("k8s-restricted.yaml"), "PSB-A003") == []
