import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3061"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("LABEL a=b\nFROM alpine:3.20\n", [1]),
        ("ARG X=1\nENV Y=2\nRUN x\nFROM alpine:3.20\n", [2, 3]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "ARG BASE=alpine:3.20\nFROM $BASE\n",
        "# syntax=docker/dockerfile:1\n# c\nFROM alpine:3.20\nRUN x\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
