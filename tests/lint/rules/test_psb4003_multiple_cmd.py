import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB4003"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nCMD a\nCMD b\n", [3]),
        ('FROM alpine:3.20\nCMD ["a"]\nRUN x\nCMD ["b"]\nCMD c\n', [4, 5]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nCMD a\nFROM alpine:3.20\nCMD b\n",
        "FROM alpine:3.20\nCMD a\nONBUILD CMD b\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
