import pytest

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.testing import flagged_lines, run_rule

RULE = "PSB3055"
SCHEMA = LintConfig(label_schema={"rev": "hash"})


def dockerfile(value: str) -> str:
    return f"FROM debian:12\nLABEL rev={value} other=x\n"


@pytest.mark.parametrize(
    "value",
    [
        "ABCDEF0",
        "abcdef01",
        "g123456",
    ],
)
def test_flags(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == [2]


@pytest.mark.parametrize(
    "value",
    [
        "abcdef0",
        "0123456789abcdef0123456789abcdef01234567",
    ],
)
def test_clean(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == []


def test_only_labels_of_its_format() -> None:
    assert flagged_lines(RULE, dockerfile("ABCDEF0"), config=LintConfig(label_schema={"rev": "text"})) == []
    [finding] = run_rule(RULE, dockerfile("ABCDEF0"), config=SCHEMA)
    assert "`rev`" in finding.message and finding.aliases == ("DL3055",)
