"""Rendering of findings (DESIGN.md report schema) shared by lint, scan and audit config.

Formats: table, json, sarif. Format-specific extras (checkstyle, gitlab, cyclonedx) live with the
command that needs them and register here through `RENDERERS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pysandbox import __version__
from pysandbox.types import EXIT_FINDINGS, EXIT_OK, Finding, Severity, UserError


@dataclass(frozen=True)
class RuleInfo:
    """Metadata a SARIF consumer shows next to a finding."""

    rule_id: str
    title: str
    severity: Severity
    help: str = ""
    help_uri: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass
class Report:
    tool: str
    target: str
    findings: list[Finding]
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            counts[f.severity.label] += 1
        return counts

    def exit_code(self, fail_on: Severity | None) -> int:
        if fail_on is None:
            return EXIT_OK
        return EXIT_FINDINGS if any(f.severity >= fail_on for f in self.findings) else EXIT_OK


def rules_json(tool: str, rules: Iterable[Any]) -> str:
    """`--list-rules -f json` of a checker: each rule's id, severity, title and aliases."""
    doc = [{"id": r.id, "severity": r.severity.label, "title": r.title, "aliases": list(r.aliases)}
           for r in rules]  # fmt: skip
    return json.dumps({"tool": tool, "version": __version__, "rules": doc}, indent=2)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.location.path, f.location.line or 0, -f.severity, f.rule_id))


def render_json(report: Report) -> str:
    doc = {
        "tool": report.tool,
        "version": __version__,
        "target": report.target,
        "findings": [f.to_json() for f in report.findings],
        "summary": report.summary(),
        **report.extra,
    }
    return json.dumps(doc, indent=2)


def render_table(report: Report) -> str:
    if not report.findings:
        return f"{report.target}: no findings"
    lines = []
    for f in report.findings:
        where = f.location.path + (f":{f.location.line}" if f.location.line else "")
        lines.append(f"{where}  {f.rule_id}  {f.severity.label.upper()}  {f.title}")
        lines.append(f"    {f.message}")
        if f.fix:
            lines.append(f"    fix: {f.fix}")
    counts = ", ".join(f"{n} {k}" for k, n in report.summary().items() if n)
    lines.append(f"{len(report.findings)} findings ({counts})")
    return "\n".join(lines)


_SARIF_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
                Severity.LOW: "note", Severity.INFO: "note"}  # fmt: skip
_SARIF_SCORE = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                Severity.LOW: "3.0", Severity.INFO: "0.0"}  # fmt: skip


def render_sarif(report: Report) -> str:
    rule_ids: list[str] = []
    for f in report.findings:
        if f.rule_id not in rule_ids:
            rule_ids.append(f.rule_id)
    infos = {rid: report.rules.get(rid) or _info_from_finding(report.findings, rid) for rid in rule_ids}
    rules = [_sarif_rule(infos[rid]) for rid in rule_ids]
    results = [_sarif_result(f, rule_ids.index(f.rule_id)) for f in report.findings]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": report.tool,
                        "version": __version__,
                        "informationUri": "https://github.com/pysandbox/pysandbox",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2)


def _info_from_finding(findings: Sequence[Finding], rule_id: str) -> RuleInfo:
    f = next(f for f in findings if f.rule_id == rule_id)
    return RuleInfo(rule_id, f.title, f.severity, help=f.fix or f.message, aliases=f.aliases)


def _sarif_rule(info: RuleInfo) -> dict[str, Any]:
    help_text = info.help or info.title
    rule: dict[str, Any] = {
        "id": info.rule_id,
        "name": "".join(w.capitalize() for w in info.title.split()[:8] if w.isalnum()) or info.rule_id,
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": help_text},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": _SARIF_LEVEL[info.severity]},
        "properties": {
            "security-severity": _SARIF_SCORE[info.severity],
            "tags": ["security", *info.aliases],
        },
    }
    if info.help_uri:
        rule["helpUri"] = info.help_uri
    return rule


def _sarif_result(f: Finding, index: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": f.location.line or 1}
    if f.location.column:
        region["startColumn"] = f.location.column
    return {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": f.location.path.lstrip("/") or "."},
                    "region": region,
                }
            }
        ],
    }


RENDERERS: dict[str, Callable[[Report], str]] = {
    "table": render_table,
    "json": render_json,
    "sarif": render_sarif,
}


def render(report: Report, fmt: str) -> str:
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise UserError(f"unknown format {fmt!r}: use one of {', '.join(RENDERERS)}") from None
    return renderer(report)
