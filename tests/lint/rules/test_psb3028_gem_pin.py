import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3028"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM ruby:3.3\nRUN gem install bundler\n", [2]),
        ("FROM ruby:3.3\nRUN gem i rails:7.1 rake\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM ruby:3.3\nRUN gem install bundler:2.5.6\n",
        "FROM ruby:3.3\nRUN gem install bundler -v 2.5.6\n",
        "FROM ruby:3.3\nRUN gem update --system\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
