"""Extra report formats for CI systems, registered into `pysandbox.report.RENDERERS`.

- checkstyle: the XML that Jenkins (warnings-ng), reviewdog and hadolint's `-f checkstyle` use.
- gitlab: GitLab's code-quality report (a Code Climate subset: description, check_name,
  fingerprint, severity, location.path, location.lines.begin).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from xml.sax.saxutils import quoteattr

from pysandbox.report import RENDERERS, Report
from pysandbox.types import Finding, Severity

_CHECKSTYLE_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
                     Severity.LOW: "info", Severity.INFO: "info"}  # fmt: skip
_GITLAB_LEVEL = {Severity.CRITICAL: "blocker", Severity.HIGH: "critical", Severity.MEDIUM: "major",
                 Severity.LOW: "minor", Severity.INFO: "info"}  # fmt: skip


def render_checkstyle(report: Report) -> str:
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_file[f.location.path].append(f)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">']
    for path, findings in by_file.items():
        out.append(f"  <file name={quoteattr(path)}>")
        for f in findings:
            text = f"{f.title}: {f.message}" + (f" Fix: {f.fix}" if f.fix else "")
            out.append(
                f'    <error line="{f.location.line or 1}" column="{f.location.column or 1}"'
                f' severity="{_CHECKSTYLE_LEVEL[f.severity]}" message={quoteattr(text)}'
                f" source={quoteattr(f.rule_id)}/>"
            )
        out.append("  </file>")
    out.append("</checkstyle>")
    return "\n".join(out)


def render_gitlab(report: Report) -> str:
    issues = []
    seen: dict[str, int] = {}
    for f in report.findings:
        key = f"{f.rule_id}\0{f.location.path}\0{f.location.line}\0{f.message}"
        # identical findings on one line still need distinct fingerprints for GitLab
        seen[key] = seen.get(key, 0) + 1
        fingerprint = hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest()
        issues.append(
            {
                "type": "issue",
                "check_name": f.rule_id,
                "description": f"{f.rule_id} {f.title}: {f.message}" + (f" Fix: {f.fix}" if f.fix else ""),
                "categories": ["Security" if f.severity >= Severity.MEDIUM else "Style"],
                "fingerprint": fingerprint,
                "severity": _GITLAB_LEVEL[f.severity],
                "location": {"path": f.location.path, "lines": {"begin": f.location.line or 1}},
            }
        )
    return json.dumps(issues, indent=2)


RENDERERS.setdefault("checkstyle", render_checkstyle)
RENDERERS.setdefault("gitlab", render_gitlab)
