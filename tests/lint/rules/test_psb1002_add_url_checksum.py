import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB1002"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nADD https://example.com/tool.tar.gz /tmp/\n", [2]),
        ("FROM alpine:3.20\nARG V=1\nADD https://example.com/tool-${V}.tgz /tmp/\n", [3]),
        ('FROM alpine:3.20\nADD ["http://example.com/a", "/a"]\n', [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nADD"
        " --checksum=sha256:"
        "24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/a /a\n",
        "FROM alpine:3.20\nADD app.tar.gz /app/\n",
        "FROM alpine:3.20\nCOPY https.txt /x\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
