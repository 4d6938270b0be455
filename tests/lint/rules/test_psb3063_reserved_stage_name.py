import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3063"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12 AS scratch\nRUN true\n", [1]),
        ("FROM golang:1.22 AS build\nFROM debian:12 AS context\nCOPY --from=build /a /a\n", [2]),
        ("FROM debian:12 AS Scratch\n", [1]),  # BuildKit lower-cases stage names
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM scratch\nCOPY app /\n",
        "FROM debian:12 AS build-context\nFROM scratch AS final\n",
        "FROM debian:12\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
