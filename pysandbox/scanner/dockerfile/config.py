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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pysandbox.types import Severity, UserError

CONFIG_NAMES = (".pysandbox.yaml", ".pysandbox.yml", ".hadolint.yaml", ".hadolint.yml")
LABEL_FORMATS = ("text", "url", "email", "semver", "rfc3339", "hash", "spdx")  # hadolint's label-schema types
_NEVER_FAIL = ("none", "ignore")


@dataclass
class LintConfig:
    ignored: set[str] = field(default_factory=set)  # names as given; resolved against aliases by the linter
    overrides: dict[str, Severity] = field(default_factory=dict)  # name -> severity
    trusted_registries: list[str] = field(default_factory=list)
    failure_threshold: Severity | None = None
    threshold_disabled: bool = False  # `failure-threshold: none`
    label_schema: dict[str, str] = field(default_factory=dict)  # label -> one of LABEL_FORMATS
    strict_labels: bool = False  # labels outside label_schema are findings
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
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read config {path}: {exc.strerror}: check the --config path") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"invalid YAML in {path}{where}: fix the syntax") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"config {path} must be a mapping: use keys ignored, override, trustedRegistries")
    if isinstance(raw.get("lint"), dict):
        raw = raw["lint"]
    return _from_mapping(raw, path)


def _from_mapping(raw: dict[str, Any], path: Path) -> LintConfig:
    cfg = LintConfig(source=path)
    cfg.ignored = {str(x).upper() for x in _list(raw, "ignored", path)}
    override = raw.get("override") or {}
    if not isinstance(override, dict):
        raise UserError(f"{path}: 'override' must map a level to a list of rules: e.g. warning: [DL3008]")
    for level, names in override.items():
        severity = _level(str(level), path)
        if not isinstance(names, list):
            raise UserError(f"{path}: override.{level} must be a list of rule ids")
        for name in names:
            cfg.overrides[str(name).upper()] = severity
    registries = raw.get("trustedRegistries", raw.get("trusted-registries", raw.get("trusted_registries")))
    if registries is not None:
        if not isinstance(registries, list):
            raise UserError(f"{path}: 'trustedRegistries' must be a list of registry hosts")
        cfg.trusted_registries = [str(r) for r in registries]
    threshold = raw.get("failure-threshold", raw.get("failure_threshold"))
    if threshold is not None:
        if str(threshold).lower() in _NEVER_FAIL:
            cfg.threshold_disabled = True
        else:
            cfg.failure_threshold = _level(str(threshold), path)
    cfg.label_schema = label_schema(raw.get("label-schema", raw.get("label_schema")), str(path))
    strict = raw.get("strict-labels", raw.get("strict_labels", False))
    if not isinstance(strict, bool):
        raise UserError(f"{path}: 'strict-labels' must be true or false")
    cfg.strict_labels = strict
    return cfg


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


def _list(raw: dict[str, Any], key: str, path: Path) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise UserError(f"{path}: '{key}' must be a list, e.g. {key}: [DL3008]")
    return value


def _level(text: str, path: Path) -> Severity:
    try:
        return parse_severity(text)
    except UserError:
        raise UserError(
            f"{path}: unknown level {text!r}: use error, warning, info, style or critical, high, medium, low"
        ) from None
