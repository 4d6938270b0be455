import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB1003"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN curl -fsSL https://get.example.com | sh\n", [2]),
        ("FROM alpine:3.20\nRUN wget -qO- https://example.com/i.sh | sudo bash -s -- -y\n", [2]),
        ('FROM alpine:3.20\nRUN sh -c "$(curl -fsSL https://example.com/install.sh)"\n', [2]),
        ("FROM alpine:3.20\nRUN curl -sSL https://install.python-poetry.org | python3 -\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN curl -fsSLo /tmp/i.sh https://example.com/i.sh &&"
        " sha256sum -c sums && sh /tmp/i.sh\n",
        "FROM alpine:3.20\nRUN curl -fsSL https://example.com/a.tgz | tar xz\n",
        "FROM alpine:3.20\nRUN echo hi | sh\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
