import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB2030"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nWORKDIR /proc/self\n", [2]),
        ("FROM alpine:3.20\nWORKDIR /dev\n", [2]),
        ("FROM alpine:3.20\nENV D=/boot\nWORKDIR $D/x\n", [3]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nWORKDIR /app\n",
        "FROM alpine:3.20\nWORKDIR /devices\n",
        "FROM alpine:3.20\nWORKDIR /srv/proc\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
