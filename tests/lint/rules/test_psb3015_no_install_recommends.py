import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3015"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nRUN apt-get install -y curl=1\n", [2]),
        ("FROM debian:12\nRUN <<EOF bash\napt-get install -y curl=1\nEOF\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl=1\n",
        "FROM debian:12\nRUN apt-get -o APT::Install-Recommends=false install -y curl=1\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
