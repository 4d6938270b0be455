"""Run the rules over Dockerfiles: discovery, parsing once per file, ignores, overrides."""

from __future__ import annotations

import dataclasses
import fnmatch
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from pysandbox.report import Report, RuleInfo, sort_findings
from pysandbox.scanner.dockerfile.config import LintConfig
from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.parser import parse
from pysandbox.scanner.dockerfile.pragmas import parse_pragmas
from pysandbox.scanner.dockerfile.rule import Rule, all_rules, resolve_ids
from pysandbox.types import Finding, UserError

DOCKERFILE_PATTERNS = ("Dockerfile", "*.Dockerfile", "*.dockerfile", "Dockerfile.*", "Dockerfile-*",
                       "Containerfile", "Containerfile.*", "*.Containerfile")  # fmt: skip
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"})
PARSE_ERROR_ID = "PSB0000"


def is_dockerfile_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in DOCKERFILE_PATTERNS)


def discover(paths: Sequence[str]) -> list[str]:
    """Files named on the command line as they are; directories searched for Dockerfile names."""
    found: list[str] = []
    for raw in paths:
        if raw == "-":
            found.append(raw)
            continue
        path = Path(raw)
        if path.is_dir():
            try:
                hits = sorted(_walk(path))
            except OSError as exc:
                why = f"cannot read directory {exc.filename or raw}: {exc.strerror}"
                raise UserError(f"{why}: check its permissions") from None
            if not hits:
                raise UserError(
                    f"no Dockerfile in {raw}: name files Dockerfile, *.Dockerfile or Containerfile"
                )
            found.extend(str(h) for h in hits)
        elif path.is_file():
            found.append(raw)
        elif path.exists():
            raise UserError(f"{raw} is not a regular file: give a Dockerfile or a directory")
        else:
            raise UserError(f"{raw}: no such file or directory: give a Dockerfile or a directory")
    return found


def _walk(root: Path) -> Iterable[Path]:
    for entry in root.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            if entry.name not in _SKIP_DIRS:
                yield from _walk(entry)
        elif is_dockerfile_name(entry.name) and entry.is_file():
            yield entry


_BINARY_SNIFF = 8192  # bytes looked at to decide "binary" (git and grep look this far for a NUL)


def _is_binary(data: bytes, text: str) -> bool:
    """A NUL, or more than a tenth of odd characters (undecodable bytes, control characters) in the
    first block: random bytes have about half, a Latin-1 comment in a UTF-8 Dockerfile a few."""
    if b"\0" in data[:_BINARY_SNIFF]:
        return True
    head = text[:_BINARY_SNIFF]
    odd = sum(1 for ch in head if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f\v") or ch == "\x7f")
    return odd * 10 > len(head)


def read_dockerfile(path: str) -> Dockerfile:
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            why = f"cannot read {path}: {exc.strerror}"
            raise UserError(f"{why}: check the path and its permissions") from None
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    if _is_binary(data, text):
        shown = "stdin" if path == "-" else path
        raise UserError(f"{shown} is a binary (or UTF-16) file, not a Dockerfile: give a UTF-8 text file")
    return parse(text, path, None if path == "-" else Path(path).resolve().parent)


class Linter:
    """Rules instantiated once; `lint(df)` applies them with the config's ignores and overrides."""

    def __init__(self, config: LintConfig | None = None, ignore: Iterable[str] = ()) -> None:
        self.config = config or LintConfig()
        self.rule_classes = all_rules()
        self.ignored = resolve_ids([*self.config.ignored, *ignore])
        self.overrides = {}
        for name, severity in self.config.overrides.items():
            for rid in resolve_ids([name]):
                self.overrides[rid] = severity
        self.rules: list[Rule] = [cls() for rid, cls in self.rule_classes.items() if rid not in self.ignored]
        for rule in self.rules:
            configure = getattr(rule, "configure", None)
            if configure is not None:
                configure(self.config)

    def lint(self, df: Dockerfile) -> list[Finding]:
        rules = self.rules if df.error is None else [r for r in self.rules if r.id == PARSE_ERROR_ID]
        findings: list[Finding] = []
        for rule in rules:
            findings.extend(rule.check(df))
        pragmas = parse_pragmas(df)
        obey = not self.config.disable_ignore_pragma
        out = []
        for f in findings:
            if obey and (pragmas.by_line or pragmas.global_ignores):
                names = pragmas.ignored_at(f.location.line)
                if names and (f.rule_id in names or f.rule_id in resolve_ids(names)):
                    continue
            severity = self.overrides.get(f.rule_id)
            if severity is not None and severity != f.severity:
                f = dataclasses.replace(f, severity=severity)
            out.append(f)
        return out

    def rule_infos(self) -> dict[str, RuleInfo]:
        infos = {}
        for rid, cls in self.rule_classes.items():
            info = cls.info()
            if rid in self.overrides:
                info = dataclasses.replace(info, severity=self.overrides[rid])
            infos[rid] = info
        return infos


def lint_paths(paths: Sequence[str], config: LintConfig | None = None, ignore: Iterable[str] = ()) -> Report:
    files = discover(paths)
    linter = Linter(config, ignore)
    findings = [f for path in files for f in linter.lint(read_dockerfile(path))]
    target = paths[0] if len(paths) == 1 else f"{len(files)} files"
    return Report(tool="pysandbox lint", target=target, findings=sort_findings(findings),
                  rules=linter.rule_infos(), extra={"files": len(files)})  # fmt: skip


def lint_text(text: str, path: str = "Dockerfile", config: LintConfig | None = None,
              ignore: Iterable[str] = (), context_dir: Path | None = None) -> list[Finding]:  # fmt: skip
    """Lint a Dockerfile given as text (tests, stdin): findings sorted by line."""
    linter = Linter(config, ignore)
    return sort_findings(linter.lint(parse(text, path, context_dir)))
