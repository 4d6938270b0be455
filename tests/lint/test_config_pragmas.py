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
        ("ignored: [\n", r"config \S+\.hadolint\.yaml is not valid YAML: line 2: .+: fix the syntax$"),
        ("- a\n- b\n", "mapping"),
        ("label-schema: [maintainer]\n", "label-schema"),
        ("label-schema:\n  maintainer: phone\n", "unknown format 'phone'"),
        ("strict-labels: maybe\n", "strict-labels"),
        # typos and wrong types: once silently ignored (lint ran with the defaults)
        ("ignore: [PSB1008]\n", "unknown key 'ignore': use ignored, override, trustedRegistries, "),
        ("trusted_registry: [docker.io]\n", "unknown key 'trusted_registry'"),
        ("lint:\n  ignore: [DL3008]\n", "unknown key 'ignore'"),
        ("lint: [DL3008]\n", "'lint' must be a mapping"),
        ("ignored: [DL3008, 3009]\n", "'ignored' entry 3009 is not a string"),
        ("override:\n  error: [{DL3008: x}]\n", "'override.error' entry"),
        ("trustedRegistries: [docker.io, 5000]\n", "'trustedRegistries' entry 5000"),
        ("failure-threshold: [error]\n", "'failure-threshold' must be a level name"),
        ("no-fail: 1\n", "'no-fail' must be true or false"),
        ("disable-ignore-pragma: yes please\n", "'disable-ignore-pragma' must be true or false"),
        ("no-color: nope\n", "'no-color' must be true or false"),
        ("format: gnu\n", "format 'gnu' is not supported: use one of tty, json"),
        ("format: [json]\n", "format \\['json'\\] is not supported"),
    ],
)
def test_bad_config_is_a_user_error(tmp_path: Path, content: str, message: str) -> None:
    cfg = tmp_path / ".hadolint.yaml"
    cfg.write_text(content)
    with pytest.raises(UserError, match=message):
        load_config(cfg)


def test_every_hadolint_key_is_accepted(tmp_path: Path) -> None:
    cfg = tmp_path / ".hadolint.yaml"
    cfg.write_text(
        "failure-threshold: warning\nformat: gitlab_codeclimate\nignored: [DL3000]\n"
        "label-schema: {author: text}\nno-color: true\nno-fail: true\noverride: {style: [DL3015]}\n"
        "strict-labels: false\ndisable-ignore-pragma: true\ntrustedRegistries: my.registry:5000\n"
        "verbose: true\n"
    )
    config = load_config(cfg)
    assert config.format == "gitlab" and config.threshold_disabled and config.disable_ignore_pragma
    assert config.trusted_registries == ["my.registry:5000"]


def test_disable_ignore_pragma_reports_what_the_comments_hide(tmp_path: Path) -> None:
    text = (
        "# hadolint global ignore=DL3006\nFROM debian\n# hadolint ignore=DL3008\nRUN apt-get install curl\n"
    )
    assert not {"PSB3006", "PSB3008"} & set(ids(lint_text(text)))
    cfg = tmp_path / ".hadolint.yaml"
    cfg.write_text("disable-ignore-pragma: true\n")
    assert {"PSB3006", "PSB3008"} <= set(ids(lint_text(text, config=load_config(cfg))))
