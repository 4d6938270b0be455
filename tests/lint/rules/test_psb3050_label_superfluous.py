import pytest

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.testing import flagged_lines, run_rule

RULE = "PSB3050"
STRICT = LintConfig(label_schema={"maintainer": "text"}, strict_labels=True)


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nLABEL maintainer=me extra=1\n", [2]),
        ("FROM debian:12\nLABEL a=1\nLABEL maintainer=me\nLABEL b=2 c=3\n", [2, 4]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text, config=STRICT) == lines


@pytest.mark.parametrize(
    "text, config",
    [
        ("FROM debian:12\nLABEL maintainer=me\n", STRICT),
        ("FROM debian:12\nLABEL maintainer=me extra=1\n", LintConfig(label_schema={"maintainer": "text"})),
        ("FROM debian:12\nLABEL anything=1\n", LintConfig()),
    ],
)
def test_clean(text: str, config: LintConfig) -> None:
    assert flagged_lines(RULE, text, config=config) == []


def test_message_lists_the_labels() -> None:
    [finding] = run_rule(RULE, "FROM debian:12\nLABEL b=2 maintainer=me c=3\n", config=STRICT)
    assert "b, c" in finding.message
