import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3012"


@pytest.mark.parametrize(
    "text, lines",
    [
        ('FROM debian:12\nHEALTHCHECK CMD ["a"]\nHEALTHCHECK CMD ["b"]\n', [3]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        'FROM debian:12\nHEALTHCHECK CMD ["a"]\n',
        'FROM debian:12 AS a\nHEALTHCHECK CMD ["a"]\nFROM debian:12\nHEALTHCHECK CMD ["b"]\n',
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
