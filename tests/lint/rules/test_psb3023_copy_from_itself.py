import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3023"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12 AS app\nCOPY --from=app /x /y\n", [2]),
        ("FROM debian:12\nCOPY --from=0 /x /y\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12 AS build\nFROM debian:12 AS app\nCOPY --from=build /x /y\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
