import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3043"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nONBUILD FROM debian:12\n", [2]),
        ("FROM alpine:3.20\nONBUILD MAINTAINER me\n", [2]),
        ("FROM alpine:3.20\nONBUILD ONBUILD RUN echo\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nONBUILD RUN echo hi\n",
        "FROM alpine:3.20\nONBUILD COPY . /app\nMAINTAINER me\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
