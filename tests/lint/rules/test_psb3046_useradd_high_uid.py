import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3046"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN useradd -u 123456 app\n", [2]),
        ("FROM alpine:3.20\nRUN useradd --uid=1000000 app\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN useradd -l -u 123456 app\n",
        "FROM alpine:3.20\nRUN useradd --no-log-init -u 123456 app\n",
        "FROM alpine:3.20\nRUN useradd -u 1000 app\n",
        "FROM alpine:3.20\nRUN useradd -u $UID app\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
