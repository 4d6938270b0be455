import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB4001"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN curl -fsSLo a https://e.com/a\nRUN wget -q https://e.com/b\n", [3]),
        ("FROM alpine:3.20\nRUN curl -f x || wget -q y\n", [2]),
        ("FROM alpine:3.20\nRUN su nobody -s /bin/sh -c 'curl -fO x'\nRUN wget -q y\nRUN curl z\n", [3, 4]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN curl -fO x\nFROM alpine:3.20\nRUN wget -q y\n",
        "FROM alpine:3.20\nRUN apk add --no-cache wget curl\n",
        "FROM alpine:3.20\nRUN wget -q x && wget -q y\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
