"""Ignores, severity overrides, trusted registries and inline pragmas."""

from __future__ import annotations

from pathlib import Path

import pytest

from pysandbox.scanner.dockerfile.config import load_config
from pysandbox.scanner.dockerfile.linter import lint_text
from pysandbox.types import Severity, UserError

BAD = "FROM debian\nRUN apt-get install curl\n"


def ids(findings: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(f.rule_id for f in findings)


def test_ignore_accepts_ids_and_aliases() -> None:
    everything = ids(lint_text(BAD))
    assert {"PSB3006", "PSB3008", "PSB3014"} <= set(everything)
    remaining = ids(lint_text(BAD, ignore=["DL3008", "psb3006", "DS-0021"]))
    assert "PSB3008" not in remaining and "PSB3006" not in remaining and "PSB3014" not in remaining


def test_hadolint_pragma_ignores_the_next_instruction_only() -> None:
    text = (
        "FROM debian:12\n# hadolint ignore=DL3008,DL3015\n"
        "RUN apt-get install -y curl\nRUN apt-get install -y git\n"
    )
    findings = lint_text(text)
    assert [f.location.line for f in findings if f.rule_id == "PSB3008"] == [4]
    assert [f.location.line for f in findings if f.rule_id == "PSB3015"] == [4]


def test_pysandbox_pragma_and_global_ignore() -> None:
    text = (
        "# pysandbox global ignore=PSB3006\nFROM debian\n"
        "# pysandbox ignore=PSB3014\nRUN apt-get install curl\n"
    )
    got = ids(lint_text(text))
    assert "PSB3006" not in got and "PSB3014" not in got and "PSB3008" in got


def test_hadolint_yaml(tmp_path: Path) -> None:
    cfg = tmp_path / ".hadolint.yaml"
    cfg.write_text(
        "ignored: [DL3008]\n"
        "override:\n  error: [DL3015]\n  info: [DL3006]\n"
        "trustedRegistries: [docker.io]\n"
        "failure-threshold: warning\n"
    )
    config = load_config(cfg)
    assert config.failure_threshold == Severity.MEDIUM
    findings = lint_text("FROM quay.io/x/y\nRUN apt-get install -y curl\n", config=config)
    by_id = {f.rule_id: f for f in findings}
    assert "PSB3008" not in by_id
    assert by_id["PSB3015"].severity == Severity.HIGH
    assert by_id["PSB3006"].severity == Severity.INFO
    assert "PSB3026" in by_id  # quay.io is not trusted


def test_label_schema_and_strict_labels(tmp_path: Path) -> None:
    cfg = tmp_path / ".hadolint.yaml"
    cfg.write_text(
        "label-schema:\n  maintainer: email\n  org.opencontainers.image.created: rfc3339\n"
        "  version: semver\nstrict-labels: true\n"
    )
    config = load_config(cfg)
    assert config.strict_labels and config.label_schema["version"] == "semver"
    text = 'FROM debian:12\nLABEL maintainer="me" version="1.0" extra=1\n'
    found = {(f.rule_id, f.location.line) for f in lint_text(text, config=config)}
    assert {("PSB3049", 1), ("PSB3050", 2), ("PSB3056", 2), ("PSB3058", 2)} <= found
    assert not any(rule in ("PSB3049", "PSB3050") for rule, _ in {(f.rule_id, 0) for f in lint_text(text)})


def test_pysandbox_yaml_lint_section(tmp_path: Path) -> None:
    cfg = tmp_path / ".pysandbox.yaml"
    cfg.write_text("lint:\n  ignored: [PSB3006]\n  failure-threshold: none\n")
    config = load_config(cfg)
    assert config.threshold_disabled
    assert "PSB3006" not in ids(lint_text("FROM debian\n", config=config))


@pytest.mark.parametrize(
    "content, message",
    [
        ("ignored: DL3008\n", "must be a list"),
        ("override: [DL3008]\n", "override"),
        ("override:\n  loud: [DL3008]\n", "unknown level"),
        ("ignored: [\n", "invalid YAML"),
        ("- a\n- b\n", "mapping"),
        ("label-schema: [maintainer]\n", "label-schema"),
        ("label-schema:\n  maintainer: phone\n", "unknown format 'phone'"),
        ("strict-labels: maybe\n", "strict-labels"),
    ],
)
def test_bad_config_is_a_user_error(tmp_path: Path, content: str, message: str) -> None:
    cfg = tmp_path / ".hadolint.yaml"
    cfg.write_text(content)
    with pytest.raises(UserError, match=message):
        load_config(cfg)
