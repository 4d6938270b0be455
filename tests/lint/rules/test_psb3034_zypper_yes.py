import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3034"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM opensuse/leap:15.5\nRUN zypper install curl=8.0.1\n", [2]),
        ("FROM opensuse/leap:15.5\nRUN zypper rm vim\n", [2]),
        ("FROM opensuse/leap:15.5\nRUN zypper refresh && zypper patch\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM opensuse/leap:15.5\nRUN zypper install -y curl=8.0.1\n",
        "FROM opensuse/leap:15.5\nRUN zypper --non-interactive in curl=8.0.1\n",
        "FROM opensuse/leap:15.5\nRUN zypper -n patch\n",
        "FROM opensuse/leap:15.5\nRUN zypper refresh\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
