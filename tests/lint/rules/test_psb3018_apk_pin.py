import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3018"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN apk add --no-cache curl\n", [2]),
        ("FROM alpine:3.20\nRUN apk add --virtual .build gcc=13.2.1-r0 make\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN apk add --no-cache curl=8.5.0-r0 'bash~5.2'\n",
        "FROM alpine:3.20\nRUN apk add --no-cache --virtual .deps gcc=13.2.1-r0\n",
        "FROM alpine:3.20\nRUN apk add /tmp/local.apk\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
