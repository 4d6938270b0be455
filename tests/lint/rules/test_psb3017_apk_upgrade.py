import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3017"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN apk update && apk upgrade\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN apk add --no-cache curl=8.5.0-r0\n",
        "FROM alpine:3.20\nRUN echo apk upgrade\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
