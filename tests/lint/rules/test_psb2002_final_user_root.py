import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB2002"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN echo\n", [1]),
        ("FROM alpine:3.20\nUSER app\nUSER root\n", [3]),
        ('FROM alpine:3.20 AS build\nUSER app\nFROM alpine:3.20\nCMD ["x"]\n', [3]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nUSER 10001\n",
        "FROM alpine:3.20 AS base\nUSER app\nFROM base\nRUN x\n",
        "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\n",
        "FROM alpine:3.20\nUSER root\nRUN x\nUSER app\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
