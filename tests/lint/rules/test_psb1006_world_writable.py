import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB1006"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN chmod 777 /app\n", [2]),
        ("FROM alpine:3.20\nRUN chmod -R a+w /opt/cargo\n", [2]),
        ("FROM alpine:3.20\nRUN chmod o+w /data\n", [2]),
        ("FROM alpine:3.20\nCOPY --chmod=777 tool /bin/tool\n", [2]),
        ("FROM alpine:3.20\nRUN chmod 0666 /etc/app.conf\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN chmod 755 /app\n",
        "FROM alpine:3.20\nRUN chmod 1777 /tmp\n",
        "FROM alpine:3.20\nRUN chmod a+rwx /t && chmod o+t /t\n",
        "FROM alpine:3.20\nRUN chmod ugo+rwx,o+t /run/mariadb\n",
        "FROM alpine:3.20\nRUN chmod +w /app\n",
        "FROM alpine:3.20\nRUN chmod g+w /app\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
