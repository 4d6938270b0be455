import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB4004"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nENTRYPOINT a\nENTRYPOINT b\n", [3]),
        ('FROM alpine:3.20\nENTRYPOINT ["a"]\nCMD x\nENTRYPOINT ["b"]\n', [4]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nENTRYPOINT a\nFROM alpine:3.20\nENTRYPOINT b\n",
        'FROM alpine:3.20\nENTRYPOINT ["a"]\nCMD ["b"]\n',
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
