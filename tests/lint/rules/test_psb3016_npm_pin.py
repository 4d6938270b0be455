import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3016"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM node:20\nRUN npm install express\n", [2]),
        ("FROM node:20\nRUN npm i -g @angular/cli\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM node:20\nRUN npm install\n",
        "FROM node:20\nRUN npm ci\n",
        "FROM node:20\nRUN npm install express@4.19.2 @angular/cli@17\n",
        "FROM node:20\nRUN npm install ./local-pkg\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
