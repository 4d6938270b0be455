import pytest

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.testing import flagged_lines, run_rule

RULE = "PSB3058"
SCHEMA = LintConfig(label_schema={"maintainer": "email"})


def dockerfile(value: str) -> str:
    return f"FROM debian:12\nLABEL maintainer={value} other=x\n"


@pytest.mark.parametrize(
    "value",
    [
        '"Dev <dev@example.com>"',
        "a..b@c.d",
        ".a@b.c",
        "a@-b.c",
    ],
)
def test_flags(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == [2]


@pytest.mark.parametrize(
    "value",
    [
        "dev@example.com",
        "a@b",
        "a.b+tag@[192.0.2.1]",
    ],
)
def test_clean(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == []


def test_only_labels_of_its_format() -> None:
    assert (
        flagged_lines(
            RULE,
            dockerfile('"Dev <dev@example.com>"'),
            config=LintConfig(label_schema={"maintainer": "text"}),
        )
        == []
    )
    [finding] = run_rule(RULE, dockerfile('"Dev <dev@example.com>"'), config=SCHEMA)
    assert "`maintainer`" in finding.message and finding.aliases == ("DL3058",)
