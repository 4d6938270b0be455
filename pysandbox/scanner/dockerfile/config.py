"""Linter configuration: `.pysandbox.yaml` and hadolint's `.hadolint.yaml`.

Keys (hadolint's spelling; `.pysandbox.yaml` may also nest them under `lint:`):
  ignored: [DL3008, PSB1001]          rules (ids or aliases) never reported
  override: {error: [..], warning: [..], info: [..], style: [..], critical|high|medium|low: [..]}
  trustedRegistries: [docker.io, my.registry:5000]
  failure-threshold: warning          exit 1 at or above (CLI flag wins)
  label-schema: {maintainer: email, org.opencontainers.image.created: rfc3339}
                                      required labels and their format (text, url, email, semver,
                                      rfc3339, hash, spdx): PSB3049-PSB3058
  strict-labels: true                 labels not in label-schema are reported (PSB3050)
  no-fail: true                       never exit 1 (as failure-threshold: none)
  disable-ignore-pragma: true         `# hadolint ignore=` / `# pysandbox ignore=` comments are not obeyed
  format: json                        report format when -f is not given (hadolint's tty,
                                      gitlab_codeclimate are table, gitlab)
  no-color, verbose                   hadolint's; accepted, no effect (our table has no colour)
Any other key is an error: a typo (`ignore:` for `ignored:`) must not silently lint with defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pysandbox.types import Severity, UserError
from pysandbox.userfiles import parse_yaml, read_text

CONFIG_NAMES = (".pysandbox.yaml", ".pysandbox.yml", ".hadolint.yaml", ".hadolint.yml")
LABEL_FORMATS = ("text", "url", "email", "semver", "rfc3339", "hash", "spdx")  # hadolint's label-schema types
_NEVER_FAIL = ("none", "ignore")
# hadolint's `format` values we render, as our renderer names; its others are refused by name.
FORMATS = {"tty": "table", "table": "table", "json": "json", "checkstyle": "checkstyle", "sarif": "sarif",
           "gitlab_codeclimate": "gitlab", "gitlab": "gitlab"}  # fmt: skip
_BOOL_KEYS = ("strict-labels", "strict_labels", "no-fail", "disable-ignore-pragma", "no-color", "verbose")
KEYS = ("ignored", "override", "trustedRegistries", "failure-threshold", "label-schema", "strict-labels",
        "no-fail", "disable-ignore-pragma", "format", "no-color", "verbose")  # fmt: skip
_ALIASES = ("trusted-registries", "trusted_registries", "failure_threshold", "label_schema", "strict_labels")


@dataclass
class LintConfig:
    ignored: set[str] = field(default_factory=set)  # names as given; resolved against aliases by the linter
    overrides: dict[str, Severity] = field(default_factory=dict)  # name -> severity
    trusted_registries: list[str] = field(default_factory=list)
    failure_threshold: Severity | None = None
    threshold_disabled: bool = False  # `failure-threshold: none`
    label_schema: dict[str, str] = field(default_factory=dict)  # label -> one of LABEL_FORMATS
    strict_labels: bool = False  # labels outside label_schema are findings
    disable_ignore_pragma: bool = False  # inline ignore comments are not obeyed
    format: str | None = None  # a renderer name; the -f flag wins
    source: Path | None = None


def parse_severity(text: str) -> Severity:
    """Our names (critical..info) and hadolint's: error=high, warning=medium, style=low, info=info."""
    return Severity.parse(text)


def find_config(start: Path) -> Path | None:
    """The first config file in `start` or its parents (stops at a git root)."""
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
        if (directory / ".git").exists():
            break
    return None


def load_config(path: Path) -> LintConfig:
    text = read_text(path, "config", "give a readable UTF-8 YAML file (check the --config path)")
    raw = parse_yaml(text, "config", path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"config {path} must be a mapping: use keys ignored, override, trustedRegistries")
    if "lint" in raw:  # .pysandbox.yaml's section; other sections belong to other commands
        raw = raw["lint"] if raw["lint"] is not None else {}
        if not isinstance(raw, dict):
            raise UserError(
                f"{path}: 'lint' must be a mapping of lint keys: e.g. lint: {{ignored: [DL3008]}}"
            )
    return _from_mapping(raw, path)


def _from_mapping(raw: dict[str, Any], path: Path) -> LintConfig:
    _check_keys(raw, path)
    cfg = LintConfig(source=path)
    cfg.ignored = {x.upper() for x in _strings(raw.get("ignored"), "ignored", path)}
    override = raw.get("override") or {}
    if not isinstance(override, dict):
        raise UserError(f"{path}: 'override' must map a level to a list of rules: e.g. warning: [DL3008]")
    for level, names in override.items():
        severity = _level(str(level), path)
        if not isinstance(names, list):
            raise UserError(f"{path}: override.{level} must be a list of rule ids")
        for name in _strings(names, f"override.{level}", path):
            cfg.overrides[name.upper()] = severity
    registries = raw.get("trustedRegistries", raw.get("trusted-registries", raw.get("trusted_registries")))
    if isinstance(registries, str):  # hadolint takes one registry as a plain string
        registries = [registries]
    cfg.trusted_registries = _strings(registries, "trustedRegistries", path, "registry hosts")
    threshold = raw.get("failure-threshold", raw.get("failure_threshold"))
    if threshold is not None:
        if not isinstance(threshold, str):
            raise UserError(
                f"{path}: 'failure-threshold' must be a level name, e.g. failure-threshold: warning"
            )
        if threshold.lower() in _NEVER_FAIL:
            cfg.threshold_disabled = True
        else:
            cfg.failure_threshold = _level(threshold, path)
    cfg.label_schema = label_schema(raw.get("label-schema", raw.get("label_schema")), str(path))
    flags = {key: _bool(raw, key, path) for key in _BOOL_KEYS}
    cfg.strict_labels = flags["strict-labels"] or flags["strict_labels"]
    cfg.threshold_disabled = cfg.threshold_disabled or flags["no-fail"]  # hadolint: no-fail wins
    cfg.disable_ignore_pragma = flags["disable-ignore-pragma"]
    cfg.format = _format(raw.get("format"), path)
    return cfg


def _check_keys(raw: dict[str, Any], path: Path) -> None:
    for key in raw:
        if key not in KEYS and key not in _ALIASES:
            raise UserError(f"{path}: unknown key {str(key)!r}: use {', '.join(KEYS)}")


def _bool(raw: dict[str, Any], key: str, path: Path) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise UserError(f"{path}: '{key}' must be true or false")
    return value


def _format(value: object, path: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in FORMATS:
        names = "tty, json, checkstyle, sarif, gitlab_codeclimate"
        raise UserError(f"{path}: format {value!r} is not supported: use one of {names}")
    return FORMATS[value.lower()]


def label_schema(raw: object, where: str) -> dict[str, str]:
    """`{label: format}` checked against LABEL_FORMATS (`where` names the file or flag for errors)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(f"{where}: 'label-schema' must map label names to a format, e.g. maintainer: email")
    schema = {}
    for label, fmt in raw.items():
        if str(fmt).lower() not in LABEL_FORMATS:
            formats = ", ".join(LABEL_FORMATS)
            raise UserError(f"{where}: label-schema.{label}: unknown format {fmt!r}: use one of {formats}")
        schema[str(label)] = str(fmt).lower()
    return schema


def _strings(value: object, key: str, path: Path, what: str = "rule ids") -> list[str]:
    """A list of strings (None: empty); anything else names the key and the expected shape."""
    if value is None:
        return []
    example = "[docker.io]" if what == "registry hosts" else "[DL3008]"
    if not isinstance(value, list):
        raise UserError(f"{path}: '{key}' must be a list of {what}, e.g. {key}: {example}")
    for item in value:
        if not isinstance(item, str):
            raise UserError(f"{path}: '{key}' entry {item!r} is not a string: write it as e.g. {example}")
    return value


def _level(text: str, path: Path) -> Severity:
    try:
        return parse_severity(text)
    except UserError:
        raise UserError(
            f"{path}: unknown level {text!r}: use error, warning, info, style or critical, high, medium, low"
        ) from None
