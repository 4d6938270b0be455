"""`pysandbox audit config`: what the typer command calls (kept here so the CLI section stays thin)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

from pysandbox.audit.config.engine import audit_files, build_report, compliance_lines
from pysandbox.audit.config.rules import ALL_RULES
from pysandbox.audit.config.standards import Standard
from pysandbox.report import RENDERERS, render
from pysandbox.types import EXIT_FINDINGS, EXIT_OK, Severity, UserError

STANDARDS = ("baseline", "restricted")


def run_config(
    paths: Sequence[Path], fmt: str, fail_on: str | None, standard: str | None, list_rules: bool = False
) -> tuple[int, str]:
    """(exit code, rendered report). Raises UserError for bad flags and bad files (exit 2)."""
    if fmt not in RENDERERS:
        raise UserError(f"unknown format {fmt!r}: use one of {', '.join(RENDERERS)}")
    if list_rules:
        if fmt not in ("table", "json"):
            raise UserError(f"--list-rules prints a table or JSON, not {fmt}: use -f table or -f json")
        return EXIT_OK, rules_json() if fmt == "json" else rules_table()
    if standard is not None and standard not in STANDARDS:
        raise UserError(f"unknown standard {standard!r}: use baseline or restricted")
    if not paths:
        raise UserError(
            "no file given: pass docker-compose, Kubernetes, OCI config.json, docker inspect or profile files"
        )
    threshold = Severity.parse(fail_on) if fail_on else None
    std = cast(Standard, standard) if standard else None
    audits = audit_files(paths)
    report = build_report(audits, ", ".join(str(p) for p in paths), std)
    text = render(report, fmt)
    code = report.exit_code(threshold)
    if std is not None:
        if fmt == "table":
            text += "\n" + "\n".join(compliance_lines(audits, std))
        if any(not a.verdict(std).compliant for a in audits):
            code = EXIT_FINDINGS
    return code, text


def rules_json() -> str:
    from pysandbox.report import rules_json as render

    return render("pysandbox audit config", ALL_RULES)


def rules_table() -> str:
    lines = []
    for rule in ALL_RULES:
        lines.append(f"{rule.id}  {rule.severity.label:8}  {rule.title}")
        if rule.aliases:
            lines.append(f"    aliases: {', '.join(rule.aliases)}")
    return "\n".join(lines)
