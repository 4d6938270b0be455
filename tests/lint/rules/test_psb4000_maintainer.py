import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB4000"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nMAINTAINER Jane <jane@example.com>\n", [2]),
        ("ARG X\nFROM alpine:3.20\nMAINTAINER x\nRUN a\n", [3]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        'FROM alpine:3.20\nLABEL maintainer="Jane <jane@example.com>"\n',
        "FROM alpine:3.20\nONBUILD MAINTAINER x\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
