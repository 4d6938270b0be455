import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB1009"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nRUN apt-get install -y sudo\n", [2]),
        ("FROM alpine:3.20\nRUN apk add --no-cache bash sudo=1.9.15-r0\n", [2]),
        ("FROM fedora:39\nRUN dnf install -y sudo-1.9.15 && dnf clean all\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nRUN apt-get install -y curl\n",
        "FROM debian:12\nRUN sudo apt-get install -y curl\n",
        "FROM alpine:3.20\nRUN apk add --no-cache su-exec\n",
        "FROM debian:12\nRUN apt-get remove -y sudo\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
