"""Helpers for rule tests: run one rule over Dockerfile text and look at what it reports."""

from __future__ import annotations

from pathlib import Path

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.parser import parse
from pysandbox.scanner.dockerfile.rule import all_rules
from pysandbox.types import Finding


def run_rule(rule_id: str, text: str, *, config: LintConfig | None = None,
             context_dir: Path | None = None, path: str = "Dockerfile") -> list[Finding]:  # fmt: skip
    """Findings of rule `rule_id` alone on `text` (the file must parse, except for PSB0000)."""
    df = parse(text, path, context_dir)
    if df.error is not None and rule_id != "PSB0000":
        raise AssertionError(f"test Dockerfile does not parse: {df.error}")
    rule = all_rules()[rule_id]()
    configure = getattr(rule, "configure", None)
    if configure is not None:
        configure(config or LintConfig())
    return sorted(rule.check(df), key=lambda f: f.location.line or 0)


def flagged_lines(rule_id: str, text: str, **kwargs: object) -> list[int | None]:
    """Lines where `rule_id` reports (one entry per finding): [] means the text is clean."""
    return [f.location.line for f in run_rule(rule_id, text, **kwargs)]  # type: ignore[arg-type]
