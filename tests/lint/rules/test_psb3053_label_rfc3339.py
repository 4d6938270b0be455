import pytest

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.testing import flagged_lines, run_rule

RULE = "PSB3053"
SCHEMA = LintConfig(label_schema={"created": "rfc3339"})


def dockerfile(value: str) -> str:
    return f"FROM debian:12\nLABEL created={value} other=x\n"


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01",
        "2024-05-01T12:00:00",
        "2024-13-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
        '"2024-05-01 12:00:00Z"',
    ],
)
def test_flags(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == [2]


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T12:00:00Z",
        "2024-05-01t12:00:00.25+02:00",
        "2016-12-31T23:59:60Z",
    ],
)
def test_clean(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == []


def test_only_labels_of_its_format() -> None:
    assert (
        flagged_lines(RULE, dockerfile("2024-05-01"), config=LintConfig(label_schema={"created": "text"}))
        == []
    )
    [finding] = run_rule(RULE, dockerfile("2024-05-01"), config=SCHEMA)
    assert "`created`" in finding.message and finding.aliases == ("DL3053",)
