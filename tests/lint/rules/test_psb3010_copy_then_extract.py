import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3010"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt\n", [2]),
        ("FROM debian:12\nCOPY dist.zip /tmp/x.gz\nRUN gunzip /tmp/x.gz\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nADD app.tar.gz /opt/\n",
        "FROM debian:12\nCOPY app.tar.gz /tmp/\nRUN ls /tmp\n",
        "FROM debian:12\nCOPY app.tar.gz /tmp/\nFROM debian:12\nRUN tar -xf /tmp/app.tar.gz\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
