import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3036"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM opensuse/leap:15.5\nRUN zypper -n install curl=8.0.1\n", [2]),
        ("FROM opensuse/leap:15.5\nRUN zypper clean && zypper -n in curl=8.0.1\n", [2]),
        ("FROM opensuse/leap:15.5\nONBUILD RUN zypper -n in curl=8.0.1\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM opensuse/leap:15.5\nRUN zypper -n install curl=8.0.1 && zypper clean\n",
        "FROM opensuse/leap:15.5\nRUN zypper -n in curl=8.0.1 && zypper cc -a\n",
        "FROM opensuse/leap:15.5\nRUN zypper -n in curl=8.0.1 && rm -rf /var/cache/zypp/*\n",
        "FROM opensuse/leap:15.5\nRUN zypper -n remove vim\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
