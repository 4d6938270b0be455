import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB2004"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nEXPOSE 22\n", [2]),
        ("FROM alpine:3.20\nEXPOSE 80 22/tcp\n", [2]),
        ("FROM alpine:3.20\nEXPOSE 20-25\n", [2]),
        ("FROM alpine:3.20\nARG P=22\nEXPOSE $P\n", [3]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nEXPOSE 80 443\n",
        "FROM alpine:3.20\nEXPOSE 2222\n",
        "FROM alpine:3.20\nEXPOSE 220/udp\n",
        "FROM alpine:3.20\nEXPOSE \u00b2\n",  # not a port (PSB3011's), and no crash
        "FROM alpine:3.20\nEXPOSE 22-\u00b2\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
