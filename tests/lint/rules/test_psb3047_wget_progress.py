import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3047"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN wget https://example.com/a.tgz\n", [2]),
        ("FROM alpine:3.20\nRUN wget -O /tmp/a https://example.com/a && echo ok\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN wget -q https://example.com/a.tgz\n",
        "FROM alpine:3.20\nRUN wget -nv https://example.com/a\n",
        "FROM alpine:3.20\nRUN wget --progress=dot:giga https://example.com/a\n",
        "FROM alpine:3.20\nRUN wget -qO- https://example.com/a | tar xz\n",
        "FROM alpine:3.20\nRUN wget -o /log https://e.com/a\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
