import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3040"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM fedora:39\nRUN dnf install -y httpd-2.4.57\n", [2]),
        ("FROM fedora:39\nRUN microdnf clean all && microdnf install -y tar-1.34\n", [2]),
        ("FROM fedora:39\nRUN tdnf install -y python3\n", [2]),
        ("FROM fedora:39\nRUN microdnf install -y a-1 && rm -rf /tmp/x\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM fedora:39\nRUN dnf install -y httpd-2.4.57 && dnf clean all\n",
        "FROM fedora:39\nRUN microdnf install -y tar-1.34 && microdnf clean all\n",
        "FROM fedora:39\nRUN dnf install -y a-1 && rm -rf /var/cache/dnf\n",
        "FROM fedora:39\nRUN --mount=type=cache,target=/var/cache/dnf dnf install -y a-1\n",
        "FROM fedora:39\nRUN rm -rf /tmp/x; dnf install -y a-1; dnf clean all\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
