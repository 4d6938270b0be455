import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3057"


@pytest.mark.parametrize(
    "text, lines",
    [
        ('FROM alpine:3.20\nCMD ["app"]\n', [1]),
        ('FROM alpine:3.20\nHEALTHCHECK CMD true\nFROM alpine:3.20\nCMD ["app"]\n', [3]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nHEALTHCHECK --interval=30s CMD wget -q -O- http://localhost/ || exit 1\n",
        "FROM alpine:3.20\nHEALTHCHECK NONE\n",
        "FROM alpine:3.20 AS base\nHEALTHCHECK CMD true\nFROM golang:1.22 AS build\nFROM base\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
