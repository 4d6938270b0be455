import pytest

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3051"
SCHEMA = LintConfig(label_schema={"maintainer": "text", "org.url": "url"})


@pytest.mark.parametrize(
    "text, lines",
    [
        ('FROM debian:12\nLABEL maintainer=""\n', [2]),
        ("FROM debian:12\nLABEL org.url= maintainer=''\n", [2, 2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text, config=SCHEMA) == lines


@pytest.mark.parametrize(
    "text, config",
    [
        ('FROM debian:12\nLABEL maintainer="me"\n', SCHEMA),
        ('FROM debian:12\nLABEL other=""\n', SCHEMA),  # not in the schema
        ('FROM debian:12\nLABEL maintainer=""\n', LintConfig()),
    ],
)
def test_clean(text: str, config: LintConfig) -> None:
    assert flagged_lines(RULE, text, config=config) == []
