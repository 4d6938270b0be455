import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3000"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian\nWORKDIR app\n", [2]),
        ("FROM debian\nWORKDIR ./app\nWORKDIR /srv\nWORKDIR 'data'\n", [2, 4]),
        ("FROM debian\nONBUILD WORKDIR build\n", [2]),
    ],
)
def test_relative_workdir_is_flagged(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian\nWORKDIR /app\n",
        'FROM debian\nWORKDIR "/app"\n',
        "FROM debian\nARG HOME=/home/u\nWORKDIR $HOME\nWORKDIR ${HOME}/src\n",
        "FROM mcr.microsoft.com/windows/nanoserver\nWORKDIR C:\\\\app\n",
    ],
)
def test_absolute_workdir_is_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
