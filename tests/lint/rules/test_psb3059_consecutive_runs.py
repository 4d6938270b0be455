import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3059"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN a\nRUN b\n", [3]),
        ("FROM alpine:3.20\nRUN a\n# comment\nRUN b\nRUN sudo c\n", [4, 5]),
        ('FROM alpine:3.20\nRUN ["a"]\nRUN b\n', [3]),
        # `RUN powershell ...` runs one program, however many `;` its script holds
        (
            "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nRUN powershell a; b; c\n"
            'RUN setx /M PATH "C:\\bin;%PATH%"\n',
            [3],
        ),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN a && b\nRUN c\n",
        "FROM alpine:3.20\nRUN a\nWORKDIR /\nRUN b\n",
        "FROM alpine:3.20\nRUN a\nRUN --mount=type=cache,target=/x b\n",
        "FROM alpine:3.20\nRUN a\nONBUILD RUN b\nRUN c\n",
        "FROM alpine:3.20\nRUN a $(b)\nRUN c\n",
        # with SHELL powershell each RUN is a script: several statements were split on purpose
        'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\n'
        "RUN $a = 1; Write-Host $a\nRUN Write-Host 'x'; Remove-Item C:\\x\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
