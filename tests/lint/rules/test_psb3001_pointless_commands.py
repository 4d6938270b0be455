import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3001"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nRUN service nginx start\n", [2]),
        ("FROM debian:12\nRUN apt-get update && vim /etc/x\n", [2]),
        ("FROM debian:12\nRUN sudo shutdown -h now\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nRUN echo ssh\n",
        "FROM debian:12\nRUN apt-get install -y openssh-client=1\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
