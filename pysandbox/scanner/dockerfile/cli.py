"""`pysandbox lint`: everything between the typer command and the linter (kept out of cli.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pysandbox.report import RENDERERS, render
from pysandbox.scanner.dockerfile.config import (
    LintConfig,
    find_config,
    label_schema,
    load_config,
    parse_severity,
)
from pysandbox.scanner.dockerfile.linter import lint_paths
from pysandbox.scanner.dockerfile.rule import all_rules
from pysandbox.types import Severity, UserError

_NEVER_FAIL = ("none", "ignore", "never")


def run_lint(
    paths: Sequence[str],
    fmt: str | None,
    failure_threshold: str | None,
    ignore: Sequence[str],
    config_path: Path | None,
    trusted_registries: Sequence[str],
    list_rules: bool = False,
    require_labels: Sequence[str] = (),
    strict_labels: bool = False,
) -> tuple[int, str]:
    """Returns (exit code, rendered report). `fmt` None: the config's `format`, else table."""
    import pysandbox.scanner.formats  # noqa: F401  (registers checkstyle and gitlab)

    if fmt is not None:
        _check_format(fmt)
    if list_rules:
        if fmt not in (None, "table", "json"):
            raise UserError(f"--list-rules prints a table or JSON, not {fmt}: use -f table or -f json")
        return 0, rules_json() if fmt == "json" else rules_table()
    if paths.count("-") > 1:
        raise UserError("stdin (-) given more than once: pass it once")
    config = _config(config_path)
    fmt = fmt or config.format or "table"
    if trusted_registries:
        config.trusted_registries = [*config.trusted_registries, *trusted_registries]
    if require_labels:
        config.label_schema = {**config.label_schema, **_required_labels(require_labels)}
    config.strict_labels = config.strict_labels or strict_labels
    threshold = _threshold(failure_threshold, config)
    report = lint_paths(paths, config, ignore)
    return report.exit_code(threshold), render(report, fmt)


def _check_format(fmt: str) -> None:
    if fmt not in RENDERERS or fmt == "cyclonedx":
        raise UserError(f"unknown format {fmt!r}: use table, json, sarif, checkstyle or gitlab")


def _config(path: Path | None) -> LintConfig:
    if path is not None:
        if path.is_dir():
            raise UserError(f"config file {path} is a directory: give a .pysandbox.yaml or .hadolint.yaml")
        if not path.exists():
            raise UserError(f"config file {path} not found: check the --config path")
        if not path.is_file():
            raise UserError(f"config file {path} is not a file: give a .pysandbox.yaml or .hadolint.yaml")
        return load_config(path)
    found = find_config(Path.cwd())
    return load_config(found) if found else LintConfig()


def _required_labels(specs: Sequence[str]) -> dict[str, str]:
    """`--require-label maintainer:email` (hadolint's flag) -> {"maintainer": "email"}."""
    raw = {}
    for spec in specs:
        label, sep, fmt = spec.rpartition(":")
        if not sep or not label:
            raise UserError(f"--require-label {spec!r}: use LABEL:FORMAT, e.g. maintainer:email")
        raw[label] = fmt
    return label_schema(raw, "--require-label")


def _threshold(flag: str | None, config: LintConfig) -> Severity | None:
    if flag is not None:
        return None if flag.strip().lower() in _NEVER_FAIL else parse_severity(flag)
    if config.threshold_disabled:
        return None
    return config.failure_threshold or Severity.INFO


def rules_table() -> str:
    lines = []
    for rid, cls in all_rules().items():
        aliases = ", ".join(cls.aliases) or "-"
        lines.append(f"{rid}  {cls.severity.label:8}  {cls.title}  [{aliases}]")
    return "\n".join(lines)


def rules_json() -> str:
    from pysandbox.report import rules_json as render

    return render("pysandbox lint", all_rules().values())
