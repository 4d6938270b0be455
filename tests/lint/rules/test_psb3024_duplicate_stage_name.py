import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3024"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12 AS build\nFROM alpine:3 AS Build\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12 AS build\nFROM alpine:3 AS test\n",
        "FROM debian:12\nFROM alpine:3\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
