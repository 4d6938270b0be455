import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3039"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM fedora:39\nRUN dnf upgrade -y\n", [2]),
        ("FROM fedora:39\nRUN dnf -y upgrade-minimal\n", [2]),
        ("FROM fedora:39\nRUN dnf update -y && dnf clean all\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM fedora:39\nRUN dnf install -y httpd-2.4.57\n",
        "FROM fedora:39\nRUN yum update\n",
        "FROM fedora:39\nRUN microdnf update -y\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
