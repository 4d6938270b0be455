"""Dockerfile linter (`pysandbox lint`): BuildKit's parser, shell analysis with bashlex, rules in rules/."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.linter import Linter, discover, lint_paths, lint_text
from pysandbox.scanner.dockerfile.parser import parse

__all__ = ["Linter", "discover", "lint_paths", "lint_text", "parse"]
