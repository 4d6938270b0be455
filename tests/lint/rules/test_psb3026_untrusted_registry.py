import pytest

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.testing import flagged_lines, run_rule

RULE = "PSB3026"
TRUSTED = LintConfig(trusted_registries=["docker.io", "*.corp.example"])


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM quay.io/jupyter/base-notebook:2024\n", [1]),
        ("FROM debian:12 AS a\nFROM ghcr.io/org/app:1.0\n", [2]),
        ("FROM localhost:5000/app:1\n", [1]),
    ],
)
def test_untrusted_registry_is_flagged(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text, config=TRUSTED) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\n",
        "FROM docker.io/library/debian:12\n",
        "FROM registry.corp.example/base/python:3.12\n",
        "FROM scratch\n",
        "FROM debian:12 AS build\nFROM build\n",
    ],
)
def test_trusted_registry_is_clean(text: str) -> None:
    assert flagged_lines(RULE, text, config=TRUSTED) == []


def test_rule_is_off_without_trusted_registries() -> None:
    assert flagged_lines(RULE, "FROM quay.io/x/y:1\n") == []


def test_message_names_the_registry() -> None:
    [finding] = run_rule(RULE, "FROM quay.io/x/y:1\n", config=TRUSTED)
    assert "quay.io" in finding.message
