import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB1008"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\n", [1]),
        ("FROM debian:12 AS build\nFROM build\nFROM nginx\n", [1, 3]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20@sha256:0a4eaa0eecf5f8c050e5bba433f58c052be7587ee8af3e8b3910ef9ab5fbe9f5\n",
        "FROM scratch\n",
        "ARG BASE\nFROM $BASE\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
