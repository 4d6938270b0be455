from __future__ import annotations

from pysandbox.types import Severity

from .cfg_helpers import audit_fixture, of


def test_safe_sysctls_pass_others_graded() -> None:
    found = of(audit_fixture("k8s-list.json"), "PSB-A015")
    assert [(f.location.line, f.severity) for f in found] == [(14, Severity.LOW), (15, Severity.HIGH)]
    assert all(f.aliases == ("PSS-baseline:Sysctls",) for f in found)  # kernel.shm_rmid_forced is safe


def test_core_pattern_is_an_escape_and_mapping_syntax_works() -> None:
    audits = audit_fixture("compose-risky.yml")
    found = of(audits, "PSB-A015", "service/debugger")
    assert any(f.severity == Severity.CRITICAL and "kernel.core_pattern" in f.message for f in found)
    (worker,) = of(audits, "PSB-A015", "service/worker")
    assert "net.core.somaxconn=1024" in worker.message  # net.ipv4.ping_group_range is safe
