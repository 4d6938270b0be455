import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3020"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nADD app/ /app/\n", [2]),
        ('FROM debian:12\nADD ["a.txt", "/app/"]\n', [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nADD app.tar.gz /opt/\n",
        "FROM debian:12\nADD --checksum=sha256:" + "c" * 64 + " https://example.com/x.tgz /tmp/\n",
        "FROM debian:12\nCOPY app/ /app/\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
