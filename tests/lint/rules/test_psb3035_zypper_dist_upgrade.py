import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3035"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM opensuse/leap:15.5\nRUN zypper dist-upgrade -y\n", [2]),
        ("FROM opensuse/leap:15.5\nRUN zypper -n dup\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM opensuse/leap:15.5\nRUN zypper -n update\n",
        "FROM opensuse/leap:15.5\nRUN zypper -n install curl=8.0.1\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
