import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3004"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nRUN sudo apt-get update\n", [2]),
        ("FROM debian:12\nRUN echo a && sudo -u app make\n", [2]),
        ('FROM debian:12\nRUN ["sudo", "make"]\n', [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nRUN apt-get install -y sudo=1.9\n",
        "FROM debian:12\nRUN echo sudo\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
