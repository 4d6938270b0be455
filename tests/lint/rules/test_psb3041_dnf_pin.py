import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3041"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM fedora:39\nRUN dnf install -y httpd && dnf clean all\n", [2]),
        ("FROM fedora:39\nRUN microdnf install -y tar-1.34 python3-pip\n", [2]),
        ("FROM fedora:39\nRUN dnf -y module install nodejs\n", [2]),
        ("FROM fedora:39\nRUN dnf install -y MariaDB-server-${MARIADB_VERSION}\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM fedora:39\nRUN dnf install -y httpd-2.4.57 && dnf clean all\n",
        "FROM fedora:39\nRUN dnf -y module install nodejs:18\n",
        "FROM fedora:39\nRUN dnf install -y /tmp/x.rpm nodejs-1:18.19.0-1.fc39\n",
        'FROM fedora:39\nENV V=8.0.36\nRUN microdnf install -y "mysql-server-$V"\n',
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
