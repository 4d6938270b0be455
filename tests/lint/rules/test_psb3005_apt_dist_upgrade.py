import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3005"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nRUN apt-get update && apt-get dist-upgrade -y\n", [2]),
        ("FROM debian:12\nRUN apt-get -y dist-upgrade\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nRUN apt-get update\n",
        "FROM debian:12\nRUN echo dist-upgrade\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
