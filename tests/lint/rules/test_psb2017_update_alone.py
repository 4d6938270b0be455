import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB2017"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n", [2]),
        ("FROM alpine:3.20\nRUN apk update\n", [2]),
        ("FROM centos:7\nRUN yum update -y && echo done\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
        "FROM alpine:3.20\nRUN apk add --update curl\n",
        "FROM debian:12\nRUN apt-get update && apt-get dist-upgrade -y\n",
        "FROM debian:12\nRUN apt-get update && xargs apt-get install -y < pkgs.txt\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
