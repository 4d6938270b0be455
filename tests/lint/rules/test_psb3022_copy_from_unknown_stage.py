import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3022"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nCOPY --from=build /x /x\n", [2]),
        ("FROM debian:12\nCOPY --from=gloursdocker/docker / /\n", [2]),
        ("FROM debian:12\nCOPY --from=build /x /x\nFROM golang:1.22 AS build\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM golang:1.22 AS build\nFROM debian:12\nCOPY --from=build /x /x\n",
        "FROM golang:1.22\nFROM debian:12\nCOPY --from=0 /x /x\n",
        "FROM debian:12\nCOPY --from=composer:2 /usr/bin/composer /usr/local/bin/\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
