import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB1004"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN --security=insecure make test\n", [2]),
        ("FROM alpine:3.20\nRUN --network=host make\n", [2]),
        ("FROM alpine:3.20\nRUN --mount=type=bind,target=.,rw make\n", [2]),
        ("FROM alpine:3.20\nRUN --mount=from=src,src=/src,rw make\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN --mount=type=bind,target=/src make\n",
        "FROM alpine:3.20\nRUN --mount=type=cache,target=/root/.cache make\n",
        "FROM alpine:3.20\nRUN --network=none make\n",
        "FROM alpine:3.20\nRUN --security=sandbox make\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
