import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3007"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:latest\n", [1]),
        ("ARG TAG=latest\nFROM node:$TAG\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\n",
        "FROM debian\n",
        "FROM debian:latest@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
