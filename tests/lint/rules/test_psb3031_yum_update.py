import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3031"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM centos:7\nRUN yum update -y\n", [2]),
        ("FROM centos:7\nRUN yum -y upgrade && yum clean all\n", [2]),
        ("FROM centos:7\nRUN sudo yum update\n", [2]),
        ("FROM centos:7\nONBUILD RUN yum upgrade-to foo\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM centos:7\nRUN yum install -y httpd-2.4.6 && yum clean all\n",
        "FROM centos:7\nRUN echo yum update\n",
        "FROM centos:7\nRUN dnf update -y\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
