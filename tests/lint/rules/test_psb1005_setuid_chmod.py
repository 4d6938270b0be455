import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB1005"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN chmod u+s /usr/bin/tool\n", [2]),
        ("FROM alpine:3.20\nRUN chmod 4755 /usr/bin/tool\n", [2]),
        ("FROM alpine:3.20\nRUN chmod +s /usr/bin/nnp-test\n", [2]),
        ("FROM alpine:3.20\nCOPY --chmod=6755 tool /usr/bin/tool\n", [2]),
        ("FROM alpine:3.20\nRUN install -m 4755 tool /usr/bin/tool\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN chmod 755 /usr/bin/tool\n",
        "FROM alpine:3.20\nRUN chmod a-s /usr/bin/*\n",
        "FROM alpine:3.20\nRUN chmod g+s /shared\n",
        "FROM alpine:3.20\nRUN install -d -m 3777 /var/run/postgresql\n",
        "FROM alpine:3.20\nRUN find / -perm /6000 -exec chmod a-s {} +\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
