import pytest

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.testing import flagged_lines, run_rule

RULE = "PSB3056"
SCHEMA = LintConfig(label_schema={"version": "semver"})


def dockerfile(value: str) -> str:
    return f"FROM debian:12\nLABEL version={value} other=x\n"


@pytest.mark.parametrize(
    "value",
    [
        "1.0",
        "v1.0.0",
        "latest",
    ],
)
def test_flags(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == [2]


@pytest.mark.parametrize(
    "value",
    [
        "1.0.0",
        "1.0.0-rc.1",
        "1.2.3-alpha+001",
    ],
)
def test_clean(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == []


def test_only_labels_of_its_format() -> None:
    assert flagged_lines(RULE, dockerfile("1.0"), config=LintConfig(label_schema={"version": "text"})) == []
    [finding] = run_rule(RULE, dockerfile("1.0"), config=SCHEMA)
    assert "`version`" in finding.message and finding.aliases == ("DL3056",)
