"""Benchmark `pysandbox lint` against hadolint and trivy on the Dockerfile corpus.

Runs the whole corpus through the three tools (one process each, as CI would), prints wall-time
ratios, then for every hadolint/trivy rule id that a pysandbox rule lists as an alias: how many
findings each tool reports, how many match (same file and line; file-level trivy checks match
anywhere in the file), recall, and each remaining difference with its explanation.

Usage: .venv/bin/python bench/lint.py [--corpus DIR] [--repeat N] [--details]
Writes bench/results/lint.json and bench/results/lint.md as well (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pysandbox.scanner.dockerfile.linter import read_dockerfile  # noqa: E402
from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction  # noqa: E402

# the peer reports another line of the same problem (trivy: first FROM of the alias; we: the duplicate)
LINE_INSENSITIVE = frozenset({"DS-0012"})
DEFAULT_CORPUS = Path(os.environ.get("PYSANDBOX_CORPUS", ROOT.parent / "shared" / "corpus" / "dockerfiles"))
VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"

Key = tuple[str, int | None]  # (file name, line)


@dataclass
class ToolRun:
    name: str
    seconds: float
    findings: dict[str, list[Key]] = field(default_factory=dict)  # rule id -> locations
    failed_files: set[str] = field(default_factory=set)  # files the tool could not parse
    messages: dict[tuple[str, Key], str] = field(default_factory=dict)  # (rule, location) -> message


def tool(name: str) -> str:
    found = VENV_BIN / name
    if found.exists():
        return str(found)
    path = shutil.which(name)
    if path is None:
        sys.exit(f"bench/lint.py: {name} not found: run `make setup` (it is installed into .venv)")
    return path


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if p.is_file() and p.name != "SOURCES.tsv")


def timed(argv: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"bench/lint.py: {argv[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def best_of(repeat: int, run: Callable[[], tuple[float, str]]) -> tuple[float, str]:
    results = [run() for _ in range(repeat)]
    return min(r[0] for r in results), results[-1][1]


def run_pysandbox(files: list[Path], corpus: Path, repeat: int) -> ToolRun:
    argv = [sys.executable, "-m", "pysandbox", "lint", "--format", "json", "--failure-threshold", "none",
            *[f.name for f in files]]  # fmt: skip
    seconds, out = best_of(repeat, lambda: timed(argv, corpus))
    doc = json.loads(out)
    run = ToolRun("pysandbox", seconds)
    for f in doc["findings"]:
        key = (Path(f["location"]["path"]).name, f["location"]["line"])
        for rid in dict.fromkeys(a.removeprefix("AVD-") for a in (f["rule_id"], *f["aliases"])):
            run.findings.setdefault(rid, []).append(key)
        if f["rule_id"] == "PSB0000":
            run.failed_files.add(key[0])
    return run


def run_hadolint(files: list[Path], corpus: Path, repeat: int) -> ToolRun:
    argv = [tool("hadolint"), "-f", "json", "--no-fail", *[f.name for f in files]]
    seconds, out = best_of(repeat, lambda: timed(argv, corpus))
    run = ToolRun("hadolint", seconds)
    for f in json.loads(out):
        key = (Path(f["file"]).name, f["line"])
        run.findings.setdefault(f["code"], []).append(key)
        run.messages[(f["code"], key)] = f["message"].splitlines()[0]
        if f["code"] == "DL1000":
            run.failed_files.add(Path(f["file"]).name)
    return run


def run_trivy(corpus: Path, repeat: int) -> ToolRun:
    cache = Path(tempfile.mkdtemp(prefix="psb-bench-trivy-"))
    try:
        # --skip-check-update: offline, trivy falls back to the checks embedded in its binary
        argv = [tool("trivy"), "config", "--quiet", "--skip-check-update", "--cache-dir", str(cache),
                "--file-patterns", "dockerfile:__", "--format", "json", str(corpus)]  # fmt: skip
        seconds, out = best_of(repeat, lambda: timed(argv, corpus))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    run = ToolRun("trivy", seconds)
    results = json.loads(out).get("Results", [])
    # trivy lists every file it parsed (DS-0026 fires on nearly all): a missing file is one it could not parse
    run.failed_files = {f.name for f in corpus_files(corpus)} - {Path(r["Target"]).name for r in results}
    for result in results:
        name = Path(result["Target"]).name
        for m in result.get("Misconfigurations", []):
            if m.get("Status", "FAIL") != "FAIL":
                continue
            line = (m.get("CauseMetadata") or {}).get("StartLine")
            run.findings.setdefault(m["ID"], []).append((name, line or None))
    return run


@dataclass
class Comparison:
    rule: str
    theirs: int
    ours: int
    matched: int
    missed: list[Key]
    extra: list[Key]

    @property
    def recall(self) -> float:
        return 1.0 if self.theirs == 0 else self.matched / self.theirs


def compare(rule: str, theirs: list[Key], ours: list[Key]) -> Comparison:
    pool: Counter[Key] = Counter(ours)
    our_files = {name for name, _ in ours}
    file_level = {name for name, line in theirs if line is None}  # trivy checks without a line
    matched = 0
    missed: list[Key] = []
    if rule in LINE_INSENSITIVE:
        theirs = [(name, None) for name, _ in theirs]
        file_level = {name for name, _ in theirs}
    for key in theirs:
        if key[1] is None:
            hit = key[0] in our_files
        else:
            hit = pool[key] > 0
            if hit:
                pool[key] -= 1
        if hit:
            matched += 1
        else:
            missed.append(key)
    extra = [k for k, n in pool.items() for _ in range(n) if k[0] not in file_level]
    return Comparison(
        rule, len(theirs), len(ours), matched, sorted(missed, key=_order), sorted(extra, key=_order)
    )


def _order(key: Key) -> tuple[str, int]:
    return key[0], key[1] or 0


_PARSED: dict[str, Dockerfile] = {}
_GONE_FROM_HADOLINT = {"DL3005": "apt-get upgrade/dist-upgrade", "DL3017": "apk upgrade"}
FALSE_POSITIVE = "(their false positive)"  # a missed finding explained this way does not count against recall


def _parsed(corpus: Path, name: str) -> Dockerfile:
    if name not in _PARSED:
        _PARSED[name] = read_dockerfile(str(corpus / name))
    return _PARSED[name]


def _instruction_at(df: Dockerfile, line: int | None) -> Instruction | None:
    return next((i for i in df.instructions if i.line == line), None)


def _parse_message(peer: ToolRun, name: str) -> str:
    return next(
        (m for (rule, (file, _)), m in peer.messages.items() if rule == "DL1000" and file == name), ""
    )


def explain(rule: str, side: str, key: Key, peer: ToolRun, corpus: Path) -> str:
    """Why a finding is reported by one tool and not the other (side: 'missed' or 'extra')."""
    name, line = key
    df = _parsed(corpus, name)
    inst = _instruction_at(df, line)
    for check in (_parse_reasons, _hadolint_reasons, _shell_reasons, _trivy_reasons):
        why = check(rule, side, key, peer, df, inst)
        if why:
            return why
    return "unexplained"


def _parse_reasons(
    rule: str, side: str, key: Key, peer: ToolRun, df: Dockerfile, inst: Instruction | None
) -> str:
    name = key[0]
    if side == "extra" and name in peer.failed_files:
        why = _parse_message(peer, name)
        return f"{peer.name} cannot parse this file{f' ({why})' if why else ''}; BuildKit can"
    if rule == "DL1000" and side == "missed":
        why = peer.messages.get((rule, key), "")
        return f"BuildKit parses this file; hadolint's parser rejects it ({why}) {FALSE_POSITIVE}"
    if rule == "DL1000" and side == "extra":
        why = df.error.message if df.error else "?"
        return f"BuildKit rejects this file ({why}); hadolint's parser accepts it"
    if side == "missed" and df.error is not None:
        return f"BuildKit rejects this file ({df.error.message}): we report PSB0000 instead {FALSE_POSITIVE}"
    return ""


def _hadolint_reasons(
    rule: str, side: str, key: Key, peer: ToolRun, df: Dockerfile, inst: Instruction | None
) -> str:
    text = inst.original.strip() if inst is not None else ""
    if rule in _GONE_FROM_HADOLINT and side == "extra":
        return f"hadolint 2.15 no longer has {rule} ({_GONE_FROM_HADOLINT[rule]}); we keep the check"
    stage = next((s for s in df.stages if s.from_.line == key[1]), None)
    if rule == "DL3006" and stage is not None:
        if side == "missed":
            return f"FROM {stage.image}: a build arg picks an earlier stage, no tag applies {FALSE_POSITIVE}"
        if "$" in text:
            return (
                f"{text} is {stage.image} with the ARG default, untagged; hadolint does not substitute ARGs"
            )
    if rule == "DL3009" and side == "missed" and "dist-clean" in text:
        return f"`apt-get dist-clean` deletes the apt lists (apt >= 2.7.8); needs rm {FALSE_POSITIVE}"
    if rule == "DL3009" and side == "extra" and inst is not None and inst.shell is not None:
        rms = [" ".join(c.words)[:40] for c in inst.shell.find("rm") if "-rf" in c.args]
        if rms:
            return (
                f"hadolint takes any `rm -rf` (here `{rms[0]}`) as cleanup; the apt lists stay in the layer"
            )
    if rule == "DL3010" and side == "extra":
        return "the archive is extracted by `tar x ...` (no dash); hadolint only knows -x/--extract"
    if rule == "DL3025" and side == "missed" and inst is not None and inst.json:
        return (
            f"BuildKit reads this as JSON (exec) form; hadolint's JSON parser rejects `\\/` {FALSE_POSITIVE}"
        )
    return ""


def _shell_reasons(
    rule: str, side: str, key: Key, peer: ToolRun, df: Dockerfile, inst: Instruction | None
) -> str:
    if side != "extra" or inst is None or inst.shell is None:
        return ""
    if inst.heredocs and inst.kind == "RUN":
        return f"the command is in a RUN heredoc script, which {peer.name} does not analyse"
    if "&amp;" in inst.original:
        return f"the RUN is HTML-escaped (`&amp;&amp;`); {peer.name}'s shell parser gives up, ours splits it"
    watched = {"apt-get", "pip", "apk", "cd", "sudo", "npm", "yum", "dnf", "microdnf", "zypper"}
    wrapped = [c for c in inst.shell if c.wrapper and c.name in watched]
    if wrapped:
        return f"the command runs through `{wrapped[0].wrapper}`, which {peer.name} does not look into"
    by_path = [c for c in inst.shell if "/" in c.words[0] and c.name in watched | {"pip3"}]
    if by_path:
        return f"`{by_path[0].words[0]}` is called by path; {peer.name} matches the bare command name only"
    return ""


_TRIVY_REASONS = {
    (
        "DS-0013",
        "extra",
    ): "trivy sees `cd` only at the start of an `&&` segment (here after `;`, `||`, `(`, `then`)",
    (
        "DS-0010",
        "extra",
    ): "trivy sees `sudo` only at the start of an `&&` segment (here after `;` or a newline)",
    ("DS-0021", "extra"): "trivy's regex wants `apt-get install` on one line with single spaces",
    ("DS-0029", "extra"): "trivy's regex wants `apt-get install` on one line with single spaces",
    (
        "DS-0029",
        "missed",
    ): f"--no-install-recommends comes after the packages; trivy misses it {FALSE_POSITIVE}",
    (
        "DS-0024",
        "extra",
    ): "trivy matches `apt-get dist-upgrade` only with no option in between (`apt-get -y ...`)",
    (
        "DS-0011",
        "missed",
    ): f"the destination ends with `\\` (a Windows directory); trivy wants `/` {FALSE_POSITIVE}",
}


def _trivy_reasons(
    rule: str, side: str, key: Key, peer: ToolRun, df: Dockerfile, inst: Instruction | None
) -> str:
    if peer.name != "trivy":
        return ""
    if rule in ("DS-0021", "DS-0029") and side == "extra" and inst is not None and inst.shell is not None:
        flag = "y" if rule == "DS-0021" else "no-install-recommends"
        installs = [c for c in inst.shell.find("apt-get") if c.has_arg("install")]
        if any(c.has_flag(flag) for c in installs):
            return f"trivy matches the RUN text as a whole: another `apt-get install` in it has --{flag}"
    if rule == "DS-0001" and side == "extra" and not peer.findings.get("DS-0001"):
        return (
            "trivy's DS-0001 crashed in this scan (a file repeats an ARG name) and was dropped for all files"
        )
    return _TRIVY_REASONS.get((rule, side), "")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest counts")
    parser.add_argument("--details", action="store_true", help="list every difference with its reason")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"bench/lint.py: corpus {args.corpus} not found: pass --corpus DIR", file=sys.stderr)
        return 2
    files = corpus_files(args.corpus)
    runs = {
        "pysandbox": run_pysandbox(files, args.corpus, args.repeat),
        "hadolint": run_hadolint(files, args.corpus, args.repeat),
        "trivy": run_trivy(args.corpus, args.repeat),
    }
    comparisons = _compare_all(runs)
    reasons: Counter[str] = Counter()
    details: list[str] = []
    their_fp: Counter[tuple[str, str]] = Counter()
    for peer, c in comparisons:
        for side, keys in (("missed", c.missed), ("extra", c.extra)):
            for key in keys:
                why = explain(c.rule, side, key, runs[peer], args.corpus)
                their_fp[(peer, c.rule)] += side == "missed" and FALSE_POSITIVE in why
                reasons[f"{c.rule} {side} ({peer}): {why}"] += 1
                details.append(f"- {c.rule} {side} {key[0]}:{key[1]} ({peer}): {why}")
    lines = _tables(len(files), args.corpus, runs, comparisons, their_fp)
    lines += ["", "## differences (count x rule, side, reason)", ""]
    lines += [f"- {n} x {text}" for text, n in sorted(reasons.items())]
    if args.details:
        lines += ["", "## every difference", "", *details]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lint.md").write_text(text + "\n")
    rows = [{"peer": p, "rule": c.rule, "theirs": c.theirs, "ours": c.ours, "matched": c.matched,
             "missed": c.missed, "extra": c.extra} for p, c in comparisons]  # fmt: skip
    doc = {"seconds": {n: r.seconds for n, r in runs.items()}, "rules": rows, "differences": details}
    (RESULTS / "lint.json").write_text(json.dumps(doc, indent=2))
    return 0


def _compare_all(runs: dict[str, ToolRun]) -> list[tuple[str, Comparison]]:
    ours = runs["pysandbox"]
    aliased = _aliased_ids()
    comparisons = []
    for peer, prefix in (("hadolint", ("DL3", "DL4", "DL1")), ("trivy", ("DS-",))):
        ids = {r for r in (*ours.findings, *runs[peer].findings) if r.startswith(prefix) and r in aliased}
        for rid in sorted(ids):
            comparisons.append(
                (peer, compare(rid, runs[peer].findings.get(rid, []), ours.findings.get(rid, [])))
            )
    return comparisons


def _tables(
    n_files: int,
    corpus: Path,
    runs: dict[str, ToolRun],
    comparisons: list[tuple[str, Comparison]],
    their_fp: Counter[tuple[str, str]],
) -> list[str]:
    ours = runs["pysandbox"]
    lines = [f"# lint benchmark: {n_files} Dockerfiles ({corpus})", "",
             "| tool | wall s | time / pysandbox |", "| --- | ---: | ---: |"]  # fmt: skip
    for run in runs.values():
        lines.append(f"| {run.name} | {run.seconds:.2f} | {run.seconds / ours.seconds:.1f}x |")
    lines += ["", "recall* leaves out their findings explained as their false positives.", "",
              "| rule | tool | theirs | ours | matched | recall | recall* | missed | extra |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for peer, c in comparisons:
        fp = their_fp[(peer, c.rule)]
        adjusted = 1.0 if c.theirs - fp <= 0 else c.matched / (c.theirs - fp)
        lines.append(f"| {c.rule} | {peer} | {c.theirs} | {c.ours} | {c.matched} | {c.recall:.0%} | "
                     f"{adjusted:.0%} | {len(c.missed)} | {len(c.extra)} |")  # fmt: skip
    aliased = _aliased_ids()
    unaliased = sorted(
        r for peer in ("hadolint", "trivy") for r in runs[peer].findings
        if r.startswith(("DL3", "DL4", "DS-")) and r not in aliased
    )  # fmt: skip
    if unaliased:
        lines += ["", "Peer rules no pysandbox rule lists as an alias: " + ", ".join(unaliased)]
    return lines


def _aliased_ids() -> set[str]:
    from pysandbox.scanner.dockerfile.rule import all_rules

    return {a.removeprefix("AVD-") for cls in all_rules().values() for a in cls.aliases}


if __name__ == "__main__":
    sys.exit(main())
