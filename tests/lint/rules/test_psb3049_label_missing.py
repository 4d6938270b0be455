import pytest

from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.testing import flagged_lines, run_rule

RULE = "PSB3049"
SCHEMA = LintConfig(label_schema={"maintainer": "email", "version": "semver"})


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian:12\nRUN true\n", [1, 1]),
        ('FROM debian:12\nLABEL maintainer="a@b.c"\n', [1]),
        # an unrelated stage that is neither copied from nor built upon needs the labels too
        ('FROM debian:12 AS a\nFROM debian:12\nLABEL maintainer="a@b.c" version="1.0.0"\n', [1, 1]),
        ('FROM debian:12\nONBUILD LABEL maintainer="a@b.c" version="1.0.0"\n', [1, 1]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text, config=SCHEMA) == lines


@pytest.mark.parametrize(
    "text",
    [
        'FROM debian:12\nLABEL maintainer="a@b.c" version="1.0.0"\n',
        # inherited from the stage it is built FROM
        'FROM debian:12 AS base\nLABEL maintainer="a@b.c" version="1.0.0"\nFROM base\nRUN true\n',
        # a build stage only copied from is not an image of its own
        'FROM golang:1.22 AS build\nRUN go build\nFROM debian:12\nLABEL maintainer="a@b.c" version="1.0.0"\n'
        "COPY --from=build /app /app\n",
        'FROM golang:1.22\nRUN go build\nFROM debian:12\nLABEL maintainer="a@b.c" version="1.0.0"\n'
        "COPY --from=0 /app /app\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text, config=SCHEMA) == []


def test_needs_a_schema_and_names_the_label() -> None:
    assert flagged_lines(RULE, "FROM debian:12\n") == []
    [finding] = run_rule(RULE, 'FROM debian:12\nLABEL version="1.0.0"\n', config=SCHEMA)
    assert "`maintainer`" in finding.message and finding.aliases == ("DL3049",)
