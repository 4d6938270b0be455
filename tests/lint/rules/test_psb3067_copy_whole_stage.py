import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3067"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20 AS b\nFROM alpine:3.20\nCOPY --from=b / /\n", [3]),
        ('FROM alpine:3.20 AS b\nFROM alpine:3.20\nCOPY --link --from=b ["/", "/"]\n', [3]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20 AS b\nFROM alpine:3.20\nCOPY --from=b /usr /usr\n",
        "FROM scratch AS tools\nFROM alpine:3.20\nCOPY --from=tools / /usr/local/\n",
        "FROM alpine:3.20\nCOPY / /\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
