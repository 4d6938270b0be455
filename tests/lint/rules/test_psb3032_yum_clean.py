import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3032"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM centos:7\nRUN yum install -y httpd-2.4.6\n", [2]),
        ("FROM centos:7\nRUN yum install -y a-1 && rm -rf /tmp/x\nRUN yum clean all\n", [2]),
        ('FROM centos:7\nRUN ["sh", "-c", "yum install -y a-1"]\n', [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM centos:7\nRUN yum install -y httpd-2.4.6 && yum clean all\n",
        "FROM centos:7\nRUN yum -y install a-1 && rm -rf /var/cache/yum\n",
        "FROM centos:7\nRUN --mount=type=cache,target=/var/cache/yum yum install -y a-1\n",
        "FROM centos:7\nRUN yum update-minfo\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
