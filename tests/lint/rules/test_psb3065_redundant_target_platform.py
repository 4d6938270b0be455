import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3065"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM --platform=$TARGETPLATFORM alpine:3.20\n", [1]),
        (
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
            "FROM --platform=${TARGETPLATFORM} alpine:3.20\n",
            [2],
        ),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n",
        "FROM --platform=linux/amd64 alpine:3.20\n",
        "FROM alpine:3.20\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
