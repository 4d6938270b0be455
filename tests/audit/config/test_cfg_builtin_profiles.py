"""Our own built-in profiles under our own auditor: strict is clean, permissive is not."""

from __future__ import annotations

from pysandbox.audit.config.engine import audit_files
from pysandbox.policies.loader import BUILTIN_DIR, builtin_names
from pysandbox.types import Severity


def test_strict_has_no_finding_above_low() -> None:
    (strict,) = audit_files([BUILTIN_DIR / "strict.yaml"])
    assert [f for f in strict.findings if f.severity > Severity.LOW] == []
    assert strict.verdict("restricted").compliant


def test_permissive_has_several_serious_findings() -> None:
    (permissive,) = audit_files([BUILTIN_DIR / "permissive.yaml"])
    serious = {f.rule_id for f in permissive.findings if f.severity >= Severity.MEDIUM}
    assert {"PSB-A005", "PSB-A007", "PSB-A023"} <= serious  # host network, seccomp unconfined, risky mounts
    assert not permissive.verdict("baseline").compliant


def test_every_builtin_loads() -> None:
    audits = audit_files([BUILTIN_DIR / f"{name}.yaml" for name in builtin_names()])
    assert [a.workload.name for a in audits] == builtin_names()
