import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3011"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nEXPOSE 80 70000\n", [2]),
        ("FROM debian:12\nEXPOSE 65536/udp\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nEXPOSE 80 443/tcp 8000-8010\n",
        "FROM debian:12\nARG PORT=8080\nEXPOSE $PORT\n",
        "FROM debian:12\nEXPOSE \u00b2\n",  # str.isdigit() takes it, int() does not: no crash
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
