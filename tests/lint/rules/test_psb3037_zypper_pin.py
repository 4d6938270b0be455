import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3037"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM opensuse/leap:15.5\nRUN zypper -n install curl\n", [2]),
        ("FROM opensuse/leap:15.5\nRUN zypper -n in curl=8.0.1 vim\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM opensuse/leap:15.5\nRUN zypper -n install curl=8.0.1\n",
        "FROM opensuse/leap:15.5\nRUN zypper -n in 'vim>=9' /tmp/a.rpm\n",
        "FROM opensuse/leap:15.5\nRUN zypper -n refresh\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
