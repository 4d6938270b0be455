import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3002"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nUSER app\nUSER root\n", [3]),
        ("FROM debian:12\nUSER 0:0\n", [2]),
        ("FROM debian:12 AS a\nUSER root\nFROM debian:12\nUSER app\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nUSER root\nRUN id\nUSER app\n",
        "FROM debian:12\nRUN id\n",
        "FROM debian:12\nUSER 1000\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
