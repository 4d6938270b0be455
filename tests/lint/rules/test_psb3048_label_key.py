import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3048"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nLABEL Version=1.0\n", [2]),
        ("FROM alpine:3.20\nLABEL com.docker.foo=bar\n", [2]),
        ('FROM alpine:3.20\nLABEL "a b"=1\n', [2]),
        ("FROM alpine:3.20\nLABEL ok=1 a..b=2\n", [2]),
        ("FROM alpine:3.20\nLABEL a-=1\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        'FROM alpine:3.20\nLABEL org.opencontainers.image.source="https://x"\n',
        "FROM alpine:3.20\nLABEL maintainer=me version=1\n",
        'FROM alpine:3.20\nLABEL build_version="1 2"\n',
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
