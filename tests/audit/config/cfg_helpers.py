"""Helpers for the config-auditor tests (imported by the test modules beside it)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from pysandbox.audit.config.engine import WorkloadAudit, audit_files
from pysandbox.types import Finding

DATA = Path(__file__).parent / "data"


def audit_fixture(name: str) -> list[WorkloadAudit]:
    return audit_files([DATA / name])


def audit_text(tmp_path: Path, text: str, name: str = "input.yaml") -> list[WorkloadAudit]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return audit_files([path])


def of(audits: list[WorkloadAudit], rule_id: str, workload: str | None = None) -> list[Finding]:
    """The findings of one rule, optionally of one workload (its label, e.g. `service/web`)."""
    return [
        f
        for a in audits
        if workload is None or a.workload.label == workload
        for f in a.findings
        if f.rule_id == rule_id
    ]
