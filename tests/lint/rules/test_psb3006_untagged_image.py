import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3006"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian\n", [1]),
        ("ARG BASE=quay.io/jupyter/base-notebook\nFROM $BASE\n", [2]),
        ("FROM golang:1.22 AS build\nFROM alpine\nCOPY --from=build /x /x\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\n",
        "FROM scratch\n",
        "FROM debian@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        "FROM golang:1.22 AS build\nFROM build\n",
        "FROM alpine:3 AS exit-0\nFROM alpine:3 AS exit-1\nFROM exit-${X}\n",
        "ARG BASE\nFROM $BASE\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
