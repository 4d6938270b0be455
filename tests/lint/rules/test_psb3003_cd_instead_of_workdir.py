import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3003"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nRUN cd /src && make\n", [2]),
        ("FROM debian:12\nRUN if true; then cd /x; fi\n", [2]),
        ("FROM debian:12\nRUN su nobody -s /bin/sh -c 'cd /tmp && make'\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nWORKDIR /src\nRUN make\n",
        "FROM debian:12\nRUN make -C /src\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
