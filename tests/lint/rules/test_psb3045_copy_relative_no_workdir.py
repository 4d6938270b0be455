import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3045"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nCOPY app.py app/\n", [2]),
        ("FROM alpine:3.20\nCOPY . .\n", [2]),
        ("FROM alpine:3.20\nWORKDIR /src\nFROM alpine:3.20\nCOPY a b\n", [4]),
        ('FROM alpine:3.20\nCOPY ["a.txt", "dest/"]\n', [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nCOPY app.py /app/\n",
        "FROM alpine:3.20\nWORKDIR /app\nCOPY . .\n",
        "FROM alpine:3.20\nCOPY x $HOME/x\n",
        'FROM alpine:3.20\nCOPY x "${HOME}"/x\n',
        "FROM alpine:3.20 AS base\nWORKDIR /app\nFROM base\nCOPY . .\n",
        "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY a.exe C:\\\\app\\\\\n",
        "FROM alpine:3.20\nONBUILD COPY . .\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
