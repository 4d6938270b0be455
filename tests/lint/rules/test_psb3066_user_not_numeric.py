import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3066"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nUSER app\n", [2]),
        ("FROM alpine:3.20\nUSER app:1000\n", [2]),
        ("FROM alpine:3.20\nUSER \u00b2\n", [2]),  # not a uid
        ("FROM alpine:3.20\nUSER $APP_UID\n", [2]),
        ("FROM alpine:3.20\nENV U=app\nUSER ${U}\n", [3]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nUSER 1000\n",
        "FROM alpine:3.20\nUSER 1000:app\n",
        "FROM alpine:3.20\nARG user=jenkins\nUSER ${user}\n",
        "FROM alpine:3.20\nENV U=1000\nUSER $U\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
