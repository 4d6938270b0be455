import pytest

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.testing import flagged_lines, run_rule

RULE = "PSB3054"
SCHEMA = LintConfig(label_schema={"license": "spdx"})


def dockerfile(value: str) -> str:
    return f"FROM debian:12\nLABEL license={value} other=x\n"


@pytest.mark.parametrize(
    "value",
    [
        "mit",
        '"MIT OR Apache-2.0"',
        '"Apache License 2.0"',
    ],
)
def test_flags(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == [2]


@pytest.mark.parametrize(
    "value",
    [
        "MIT",
        "Apache-2.0",
        "GPL-2.0-only",
    ],
)
def test_clean(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == []


def test_only_labels_of_its_format() -> None:
    assert flagged_lines(RULE, dockerfile("mit"), config=LintConfig(label_schema={"license": "text"})) == []
    [finding] = run_rule(RULE, dockerfile("mit"), config=SCHEMA)
    assert "`license`" in finding.message and finding.aliases == ("DL3054",)
