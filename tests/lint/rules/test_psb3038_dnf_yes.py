import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3038"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM fedora:39\nRUN dnf install httpd-2.4.57\n", [2]),
        ("FROM fedora:39\nRUN microdnf install tar-1.34\n", [2]),
        ("FROM fedora:39\nRUN dnf groupinstall 'Development Tools'\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM fedora:39\nRUN dnf install -y httpd-2.4.57\n",
        "FROM fedora:39\nRUN microdnf --assumeyes install tar-1.34\n",
        "FROM fedora:39\nRUN dnf clean all\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
