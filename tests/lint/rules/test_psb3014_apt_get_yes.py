import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3014"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nRUN apt-get install curl=1\n", [2]),
        ("FROM debian:12\nRUN apt-get update && sudo apt-get install curl=1\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nRUN apt-get install -y curl=1\n",
        "FROM debian:12\nRUN apt-get -qq install curl=1\n",
        "FROM debian:12\nRUN apt-get install --yes curl=1\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
