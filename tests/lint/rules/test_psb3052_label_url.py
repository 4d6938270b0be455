import pytest

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.testing import flagged_lines, run_rule

RULE = "PSB3052"
SCHEMA = LintConfig(label_schema={"org.url": "url"})


def dockerfile(value: str) -> str:
    return f"FROM debian:12\nLABEL org.url={value} other=x\n"


@pytest.mark.parametrize(
    "value",
    [
        "example.com",
        '"https://x.org/a b"',
        "https://x.org/%zz",
    ],
)
def test_flags(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == [2]


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com/docs",
        "ftp:/x",
        "urn:isbn:0451450523",
        '"https://x.org/a?b=c#d"',
        '""',
    ],
)
def test_clean(value: str) -> None:
    assert flagged_lines(RULE, dockerfile(value), config=SCHEMA) == []


def test_only_labels_of_its_format() -> None:
    assert (
        flagged_lines(RULE, dockerfile("example.com"), config=LintConfig(label_schema={"org.url": "text"}))
        == []
    )
    [finding] = run_rule(RULE, dockerfile("example.com"), config=SCHEMA)
    assert "`org.url`" in finding.message and finding.aliases == ("DL3052",)
