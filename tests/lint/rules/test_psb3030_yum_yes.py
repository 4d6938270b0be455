import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3030"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM centos:7\nRUN yum install httpd-2.4\n", [2]),
        ("FROM centos:7\nRUN yum groupinstall 'Development Tools'\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM centos:7\nRUN yum install -y httpd-2.4\n",
        "FROM centos:7\nRUN yum --assumeyes install httpd-2.4\n",
        "FROM centos:7\nRUN yum clean all\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
