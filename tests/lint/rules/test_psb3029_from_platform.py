import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3029"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM --platform=linux/amd64 debian:12\n", [1]),
        ("ARG P=linux/arm64\nFROM --platform=$P debian:12\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM --platform=$BUILDPLATFORM golang:1.22\n",
        "FROM --platform=${TARGETPLATFORM} debian:12\n",
        "FROM debian:12\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
