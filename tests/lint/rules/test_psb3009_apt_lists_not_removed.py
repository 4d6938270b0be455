import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3009"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nRUN apt-get update && apt-get install -y curl=1\n", [2]),
        ("FROM debian:12\nRUN apt update\n", [2]),
        ("FROM debian:12 AS base\nRUN apt-get update\nFROM base\nRUN true\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl=1 && rm -rf /var/lib/apt/lists/*\n",
        "FROM debian:12\nRUN apt-get update; apt-get install -y curl=1; apt-get dist-clean\n",
        "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt/lists apt-get update\n",
        "FROM debian:12 AS build\nRUN apt-get update\nFROM debian:12\nCOPY --from=build /x /x\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
