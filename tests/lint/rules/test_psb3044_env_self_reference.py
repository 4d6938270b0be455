import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3044"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nENV A=1 B=$A\n", [2]),
        ("FROM alpine:3.20\nENV G=1 H=${G}x\n", [2]),
        ("FROM alpine:3.20\nENV HOME=/h PATH=${HOME:-/root}/bin:$PATH\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nENV A=1\nENV B=$A\n",
        "FROM alpine:3.20\nENV C=1\nENV C=2 D=$C\n",
        "FROM alpine:3.20\nENV PATH=/x:$PATH\n",
        "FROM alpine:3.20\nENV E=${E}:x F=1\n",
        "FROM alpine:3.20\nARG J\nENV J=1 K=$J\n",
        "FROM alpine:3.20\nENV G=1 H=$GX\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
