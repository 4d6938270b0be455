"""Load configuration files, run every rule over every workload, and build the report."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pysandbox.audit.config.loaders import load_file
from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules import ALL_RULES
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import Standard, Verdict, verdict
from pysandbox.report import Report, sort_findings
from pysandbox.types import Finding

TOOL = "pysandbox audit config"


@dataclass
class WorkloadAudit:
    workload: Workload
    findings: list[Finding]

    def verdict(self, standard: Standard) -> Verdict:
        return verdict(self.findings, standard)


def audit_workload(w: Workload, rules: Iterable[Rule] = ALL_RULES) -> list[Finding]:
    return [f for rule in rules for f in rule.check(w)]


def audit_files(paths: Sequence[Path | str], rules: Sequence[Rule] = ALL_RULES) -> list[WorkloadAudit]:
    """Every file is loaded before any rule runs, so a bad file fails the run before output starts."""
    workloads = [w for path in paths for w in load_file(path)]
    return [WorkloadAudit(w, audit_workload(w, rules)) for w in workloads]


def build_report(audits: Sequence[WorkloadAudit], target: str, standard: Standard | None = None) -> Report:
    findings = sort_findings(f for a in audits for f in a.findings)
    report = Report(tool=TOOL, target=target, findings=findings, rules={r.id: r.info() for r in ALL_RULES})
    if standard is not None:
        report.extra["compliance"] = [_compliance(a, standard) for a in audits]
    return report


def _compliance(a: WorkloadAudit, standard: Standard) -> dict[str, Any]:
    v = a.verdict(standard)
    w = a.workload
    return {
        "standard": f"pss-{standard}",
        "workload": w.label,
        "location": {"path": w.path, "line": w.line},
        "compliant": v.compliant,
        "failed_controls": list(v.failed),
    }


def compliance_lines(audits: Sequence[WorkloadAudit], standard: Standard) -> list[str]:
    """The per-workload verdicts, as the table format prints them under the findings."""
    lines = []
    for a in audits:
        v = a.verdict(standard)
        w = a.workload
        where = f"{w.path}:{w.line}" if w.line else w.path
        state = "compliant" if v.compliant else f"NOT compliant, fails {', '.join(v.failed)}"
        lines.append(f"PSS {standard}: {where}  {w.label}: {state}")
    return lines
