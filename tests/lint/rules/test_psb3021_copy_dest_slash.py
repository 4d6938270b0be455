import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3021"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nCOPY a.txt b.txt /app\n", [2]),
        ('FROM debian:12\nCOPY ["a", "b", "/app"]\n', [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nCOPY a.txt b.txt /app/\n",
        "FROM debian:12\nCOPY a.txt /app\n",
        "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n"
        "COPY a.dll b.dll C:\\\\Windows\\\\System32\\\\\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
