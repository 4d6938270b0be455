from pathlib import Path

import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB1007"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nWORKDIR /app\nCOPY . .\n", [3]),
        ("FROM alpine:3.20\nADD ./ /app/\nCOPY ./* /x/\n", [2, 3]),
        ('FROM alpine:3.20\nCOPY --chown=1:1 [".", "/app"]\n', [2]),
    ],
)
def test_flags_without_dockerignore(tmp_path: Path, text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text, context_dir=tmp_path) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nCOPY src/ /app/src/\n",
        "FROM alpine:3.20 AS b\nFROM alpine:3.20\nCOPY --from=b . /app\n",
        "FROM alpine:3.20\nONBUILD COPY . /app\n",
    ],
)
def test_clean_without_dockerignore(tmp_path: Path, text: str) -> None:
    assert flagged_lines(RULE, text, context_dir=tmp_path) == []


@pytest.mark.parametrize("ignore_file", [".dockerignore", "Dockerfile.dockerignore"])
def test_dockerignore_present(tmp_path: Path, ignore_file: str) -> None:
    (tmp_path / ignore_file).write_text(".git\n.env\n")
    assert flagged_lines(RULE, "FROM alpine:3.20\nCOPY . /app\n", context_dir=tmp_path) == []


def test_stdin_has_no_context() -> None:
    assert flagged_lines(RULE, "FROM alpine:3.20\nCOPY . /app\n", context_dir=None) == []
