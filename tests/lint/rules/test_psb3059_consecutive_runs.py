import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3059"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN a\nRUN b\n", [3]),
        ("FROM alpine:3.20\nRUN a\n# comment\nRUN b\nRUN sudo c\n", [4, 5]),
        ('FROM alpine:3.20\nRUN ["a"]\nRUN b\n', [3]),
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
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
