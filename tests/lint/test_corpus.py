"""Every Dockerfile of the shared corpus goes through the linter without a crash.

The deliberately broken fixtures (parser negative tests and linter error-path fixtures, named
below by their source in SOURCES.tsv) give a PSB0000 finding with a line; every other file parses.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from pysandbox.scanner.dockerfile.linter import Linter, read_dockerfile

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PYSANDBOX_CORPUS", ROOT.parent / "shared" / "corpus" / "dockerfiles"))

# (repository, path) of fixtures that exist to be rejected
BROKEN_SOURCES = {
    # BuildKit's parser tests: every file under testfiles-negative/ must fail to parse
    ("moby/buildkit", "frontend/dockerfile/parser/testfiles-negative/"),
    # dockerfile_lint's fixture with `LABEL wrong` and an unknown `MADEUP` instruction
    ("projectatomic/dockerfile_lint", "test/data/dockerfiles/EmptyFile"),
    # dockerfilelint: "This Dockerfile is designed to test error paths"
    ("replicatedhq/dockerfilelint", "test/examples/Dockerfile.misc"),
}


def _sources() -> list[tuple[str, str, str]]:
    if not (CORPUS / "SOURCES.tsv").is_file():
        pytest.fail(f"corpus not found at {CORPUS}: set PYSANDBOX_CORPUS to the shared corpus/dockerfiles")
    with (CORPUS / "SOURCES.tsv").open(newline="") as fh:
        return [(row["file"], row["repository"], row["path"]) for row in csv.DictReader(fh, delimiter="\t")]


def _is_broken(repo: str, path: str) -> bool:
    return any(
        repo == r and (path == p or (p.endswith("/") and path.startswith(p))) for r, p in BROKEN_SOURCES
    )


def test_whole_corpus() -> None:
    linter = Linter()
    sources = _sources()
    assert len(sources) > 500
    broken_seen = 0
    unexpected: list[str] = []
    for name, repo, path in sources:
        df = read_dockerfile(str(CORPUS / name))
        findings = linter.lint(df)  # must not raise
        parse_errors = [f for f in findings if f.rule_id == "PSB0000"]
        if _is_broken(repo, path):
            broken_seen += 1
            if len(parse_errors) != 1 or not parse_errors[0].location.line:
                unexpected.append(f"{name}: expected one parse finding with a line, got {parse_errors}")
        elif df.error is not None or parse_errors:
            unexpected.append(f"{name}: does not parse: {df.error}")
    assert broken_seen == 6
    assert unexpected == []
