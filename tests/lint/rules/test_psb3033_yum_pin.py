import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3033"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM centos:7\nRUN yum install -y httpd && yum clean all\n", [2]),
        ("FROM centos:7\nRUN yum -y module install nodejs\n", [2]),
        ("FROM centos:7\nRUN sudo yum install -y tar-1.26 curl\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM centos:7\nRUN yum install -y httpd-2.4.6 && yum clean all\n",
        "FROM centos:7\nRUN yum -y module install nodejs:18\n",
        "FROM centos:7\nRUN yum install -y /tmp/pkg.rpm\n",
        "FROM centos:7\nRUN yum clean all\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
