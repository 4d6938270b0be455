import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3025"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nCMD nginx -g 'daemon off;'\n", [2]),
        ("FROM debian:12\nENTRYPOINT /entrypoint.sh\n", [2]),
        ("FROM debian:12\nHEALTHCHECK --interval=5s CMD curl -f http://localhost/\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        'FROM debian:12\nCMD ["nginx", "-g", "daemon off;"]\n',
        'FROM debian:12\nHEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\n',
        "FROM debian:12\nHEALTHCHECK NONE\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
