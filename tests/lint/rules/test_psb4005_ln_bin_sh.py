import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB4005"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN ln -sf /bin/bash /bin/sh\n", [2]),
        ("FROM alpine:3.20\nRUN apk add bash && ln -s /bin/sh /bin/x\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        'FROM alpine:3.20\nSHELL ["/bin/bash", "-c"]\n',
        "FROM alpine:3.20\nRUN ln -s /usr/bin/python3 /usr/bin/python\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
