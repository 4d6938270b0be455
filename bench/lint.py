"""Benchmark `pysandbox lint` against hadolint and trivy on the Dockerfile corpus.

Runs the whole corpus through the three tools (one process each, as CI would), prints wall-time
ratios, then for every hadolint/trivy rule id that a pysandbox rule lists as an alias: how many
findings each tool reports, how many match (same file and line; file-level trivy checks match
anywhere in the file), recall, and each remaining difference with a category and a reason computed
from the file (see CATEGORIES). recall* leaves out their findings explained as their false positive,
their parser's error, or a file BuildKit cannot build. Exits 1 while a difference is unexplained.

Usage: .venv/bin/python bench/lint.py [--corpus DIR] [--repeat N] [--details]
Writes bench/results/lint.json and bench/results/lint.md as well (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
from pysandbox.scanner.dockerfile.rules._common import runs_non_posix, shipped_stages  # noqa: E402
from pysandbox.scanner.dockerfile.rules._secrets import is_secret_name  # noqa: E402
from pysandbox.scanner.dockerfile.shell import ShellScript, analyze  # noqa: E402

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
    # DL3057 (no HEALTHCHECK) is off by default in hadolint; turned on to compare it with PSB3057
    argv = [tool("hadolint"), "-f", "json", "--no-fail", "--info", "DL3057", *[f.name for f in files]]
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

# Every difference gets one of these categories (and a reason computed from the file):
THEIR_FP = "their false positive"  # they report what is not a problem
THEIR_PARSER = "their parser"  # their parser rejects a file BuildKit builds (or accepts one it rejects)
NOT_BUILDABLE = "not buildable"  # BuildKit rejects the file or it has no FROM: we report PSB0000/PSB3061
THEIR_MISS = "their false negative"  # a real problem they do not see
OUR_SCOPE = "our scope"  # a deliberate difference: a check they dropped, more package managers, granularity
NOT_RUN = (
    "check not run"  # the peer does not run this check here (off by default, not in its bundle, crashed)
)
CATEGORIES = (THEIR_FP, THEIR_PARSER, NOT_BUILDABLE, THEIR_MISS, OUR_SCOPE, NOT_RUN)
# their findings explained by these do not count against recall* (they are not problems we should report)
EXCUSED = frozenset({THEIR_FP, THEIR_PARSER, NOT_BUILDABLE})
UNEXPLAINED = ("unexplained", "")

Why = tuple[str, str]  # (category, reason)
_GONE_FROM_HADOLINT = {"DL3005": "apt-get upgrade/dist-upgrade", "DL3017": "apk upgrade",
                       "DL3031": "yum update", "DL3039": "dnf update"}  # fmt: skip


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


def explain(rule: str, side: str, key: Key, peer: ToolRun, corpus: Path) -> Why:
    """Why a finding is reported by one tool and not the other (side: 'missed' or 'extra')."""
    name, line = key
    df = _parsed(corpus, name)
    inst = _instruction_at(df, line)
    for check in (_not_run, _parse_reasons, _hadolint_reasons, _shell_reasons, _trivy_reasons):
        why = check(rule, side, key, peer, df, inst)
        if why is not None:
            return why
    return UNEXPLAINED


def _not_run(
    rule: str, side: str, key: Key, peer: ToolRun, df: Dockerfile, inst: Instruction | None
) -> Why | None:
    if side != "extra":
        return None
    if rule in _GONE_FROM_HADOLINT and peer.name == "hadolint":
        return NOT_RUN, f"hadolint 2.15 no longer has {rule} ({_GONE_FROM_HADOLINT[rule]}); we keep the check"
    if peer.findings.get(rule):
        return None
    if rule == "DS-0001":
        return (
            NOT_RUN,
            "trivy's DS-0001 crashed in this scan (a file repeats an ARG name), dropped for all files",
        )
    if rule == "DS-0032":
        return NOT_RUN, "DS-0032 is not in the check bundle embedded in trivy (offline, --skip-check-update)"
    return None


def _parse_reasons(
    rule: str, side: str, key: Key, peer: ToolRun, df: Dockerfile, inst: Instruction | None
) -> Why | None:
    name = key[0]
    if side == "extra" and name in peer.failed_files:
        why = _parse_message(peer, name)
        return THEIR_PARSER, f"{peer.name} cannot parse this file{f' ({why})' if why else ''}; BuildKit can"
    if rule == "DL1000" and side == "missed":
        why = peer.messages.get((rule, key), "")
        return THEIR_PARSER, f"BuildKit parses this file; hadolint's parser rejects it ({why})"
    if rule == "DL1000" and side == "extra":
        why = df.error.message if df.error else "?"
        return THEIR_PARSER, f"BuildKit rejects this file ({why}); hadolint's parser accepts it"
    if side == "missed" and df.error is not None:
        return NOT_BUILDABLE, f"BuildKit rejects this file ({df.error.message}): we report PSB0000 instead"
    if side == "missed" and not df.stages:
        return NOT_BUILDABLE, "the file has no FROM, so it builds no image: we report PSB3061 on each line"
    return None


def _hadolint_reasons(
    rule: str, side: str, key: Key, peer: ToolRun, df: Dockerfile, inst: Instruction | None
) -> Why | None:
    if peer.name != "hadolint":
        return None
    text = inst.original.strip() if inst is not None else ""
    stage = next((s for s in df.stages if s.from_.line == key[1]), None)
    if rule == "DL3006" and stage is not None:
        if side == "missed":
            return THEIR_FP, f"FROM {stage.image}: a build arg picks an earlier stage, no tag applies"
        if "$" in text:
            return (
                THEIR_MISS,
                f"{text} is {stage.image} with the ARG default, untagged; hadolint keeps the ARG",
            )
    if rule == "DL3010" and side == "extra":
        return (
            THEIR_MISS,
            "the archive is extracted by `tar x ...` (no dash); hadolint only knows -x/--extract",
        )
    if rule == "DL3064" and side == "extra" and inst is not None:
        names = ", ".join(n for n, _ in inst.pairs() if is_secret_name(n))
        return THEIR_MISS, (
            f"{names} names a secret; hadolint matches a fixed list of names and the substrings "
            "password, secret, token, api_key, client_key, private, username"
        )
    if rule == "DL3057" and side == "missed" and stage is not None and stage is not df.final_stage:
        return THEIR_FP, "hadolint wants a HEALTHCHECK in every stage; only the final image runs containers"
    if inst is None or inst.shell is None:
        return None
    script = inst.shell
    if rule in ("DL3009", "DL3060") and side == "missed" and df.stage_of(inst) not in shipped_stages(df):
        return THEIR_FP, "a build stage the image only copies files from: its layers (and caches) do not ship"
    if rule == "DL3059" and side == "missed" and runs_non_posix(df, inst):
        return THEIR_FP, (
            "a PowerShell script of several statements; hadolint's shell parser cannot read it and "
            "counts no command"
        )
    if rule == "DL3009" and side == "missed" and "dist-clean" in text:
        return THEIR_FP, "`apt-get dist-clean` deletes the apt lists (apt >= 2.7.8); hadolint wants rm"
    if rule in ("DL3009", "DL3040") and side == "extra" and not _cleans_dnf(script):
        rms = [" ".join(c.words)[:40] for c in script.find("rm") if "-rf" in c.args]
        if rms:
            return (
                THEIR_MISS,
                f"hadolint takes any `rm -rf` (here `{rms[0]}`) as the cleanup; the cache stays",
            )
    if rule == "DL3040" and side == "extra" and script.has("tdnf"):
        return (
            OUR_SCOPE,
            "tdnf (Photon OS, Azure Linux) keeps a cache too; hadolint checks dnf and microdnf only",
        )
    if rule == "DL3040" and side == "missed" and _cleans_dnf(script):
        return THEIR_FP, (
            "the RUN ends with `dnf clean all`; hadolint compares the first install with the first "
            "cleanup, and takes an unrelated `rm -rf` before the install for it"
        )
    if rule == "DL3025" and side == "missed" and inst.json:
        return THEIR_FP, "BuildKit reads this as JSON (exec) form; hadolint's JSON parser rejects `\\/`"
    if rule == "DL4006" and side == "missed" and runs_non_posix(df, inst):
        return THEIR_FP, "a PowerShell/cmd RUN: `^|` is not a POSIX pipe and pipefail is a POSIX shell option"
    if rule == "DL4006" and side == "extra" and not analyze(_without_substitutions(script.text)).pipelines():
        return THEIR_MISS, "the pipe is inside `$(...)`, which hadolint does not look into"
    return None


def _cleans_dnf(script: ShellScript) -> bool:
    """The RUN ends its dnf/microdnf work with `clean all` (what DL3040/DS-0019 want)."""
    managers = ("dnf", "microdnf", "tdnf")
    last_install = max(
        (i for i, c in enumerate(script) if c.name in managers and "install" in c.args), default=-1
    )
    return any(
        i > last_install and c.name in managers and "clean" in c.args and "all" in c.args
        for i, c in enumerate(script)
    )


def _without_substitutions(text: str) -> str:
    """`a $(b | c) d` -> `a  d`: the script with its `$(...)` and backtick substitutions taken out."""
    out, depth, i = [], 0, 0
    while i < len(text):
        if text.startswith("$(", i):
            depth, i = depth + 1, i + 2
            continue
        if depth and text[i] == "(":
            depth += 1
        elif depth and text[i] == ")":
            depth -= 1
        elif not depth:
            out.append(text[i])
        i += 1
    return re.sub(r"`[^`]*`", "", "".join(out))


def _shell_reasons(
    rule: str, side: str, key: Key, peer: ToolRun, df: Dockerfile, inst: Instruction | None
) -> Why | None:
    if side != "extra" or inst is None or inst.shell is None:
        return None
    if inst.heredocs and inst.kind == "RUN":
        return THEIR_MISS, f"the command is in a RUN heredoc script, which {peer.name} does not analyse"
    if "&amp;" in inst.original:
        return THEIR_MISS, f"the RUN is HTML-escaped (`&amp;&amp;`); {peer.name}'s shell parser gives up"
    watched = {
        "apt-get",
        "pip",
        "apk",
        "cd",
        "sudo",
        "npm",
        "yum",
        "dnf",
        "microdnf",
        "zypper",
        "curl",
        "wget",
    }
    wrapped = [c for c in inst.shell if c.wrapper and c.name in watched]
    if wrapped:
        return (
            THEIR_MISS,
            f"the command runs through `{wrapped[0].wrapper}`, which {peer.name} does not look into",
        )
    by_path = [c for c in inst.shell if "/" in c.words[0] and c.name in watched | {"pip3"}]
    if by_path:
        return (
            THEIR_MISS,
            f"`{by_path[0].words[0]}` is called by path; {peer.name} matches the bare name only",
        )
    return None


_ONE_LINE = "trivy's regex wants `apt-get install` on one line with single spaces"
_TRIVY_REASONS: dict[tuple[str, str], Why] = {
    ("DS-0013", "extra"): (THEIR_MISS, "trivy sees `cd` only at the start of an `&&` segment (here after "
                                       "`;`, `||`, `(`, `then`)"),
    ("DS-0010", "extra"): (THEIR_MISS, "trivy sees `sudo` only at the start of an `&&` segment (here after "
                                       "`;` or a newline)"),
    ("DS-0021", "extra"): (THEIR_MISS, _ONE_LINE),
    ("DS-0029", "extra"): (THEIR_MISS, _ONE_LINE),
    ("DS-0029", "missed"): (THEIR_FP, "--no-install-recommends comes after the packages; trivy misses it"),
    ("DS-0024", "extra"): (THEIR_MISS, "trivy matches `apt-get dist-upgrade` only with no option in between "
                                       "(`apt-get -y ...`)"),
    ("DS-0011", "missed"): (THEIR_FP, "the destination ends with `\\` (a Windows directory); trivy wants "
                                      "`/`"),
    ("DS-0016", "extra"): (OUR_SCOPE, "trivy reports the first repeated CMD of a stage; we report every CMD "
                                      "that overrides an earlier one"),
    ("DS-0017", "missed"): (THEIR_FP, "the index is used by `dist-upgrade` in the same RUN; trivy's install "
                                      "list has `upgrade` but not `dist-upgrade`"),
    ("DS-0019", "missed"): (THEIR_FP, "the RUN ends with `dnf clean <options> all`; trivy's regex wants the "
                                      "literal `dnf clean all`"),
}  # fmt: skip


def _trivy_reasons(
    rule: str, side: str, key: Key, peer: ToolRun, df: Dockerfile, inst: Instruction | None
) -> Why | None:
    if peer.name != "trivy":
        return None
    script = inst.shell if inst is not None else None
    if rule in ("DS-0021", "DS-0029") and side == "extra" and script is not None:
        flag = "y" if rule == "DS-0021" else "no-install-recommends"
        shown = "-y" if rule == "DS-0021" else "--no-install-recommends"
        installs = [c for c in script.find("apt-get") if c.has_arg("install")]
        if any(c.has_flag(flag) for c in installs):
            return (
                THEIR_MISS,
                f"trivy matches the RUN text as a whole: another `apt-get install` in it has {shown}",
            )
    if rule == "DS-0002":
        return _trivy_user_reason(side, df)
    if rule == "DS-0017" and side == "extra" and inst is not None and "\\" in inst.text:
        return THEIR_MISS, "`apt-get \\update`: the shell drops the backslash; trivy compares the raw word"
    if rule in ("DS-0019", "DS-0027") and side == "extra" and script is not None:
        used = sorted(
            {c.name for c in script if c.name in ("dnf", "microdnf", "tdnf") and "install" in c.args}
        )
        if rule == "DS-0027" and "microdnf" not in used:
            return OUR_SCOPE, (
                f"PSB3040 covers dnf, microdnf and tdnf under one id; this RUN uses {', '.join(used)}"
                ", not microdnf (trivy's DS-0027)"
            )
        if "tdnf" in used:
            return (
                OUR_SCOPE,
                "tdnf keeps a cache too; trivy's regex matches it only when written `tdnf install`",
            )
    if rule == "DS-0031" and side == "missed" and inst is not None:
        return THEIR_FP, _not_a_secret(inst)
    return _TRIVY_REASONS.get((rule, side))


def _trivy_user_reason(side: str, df: Dockerfile) -> Why | None:
    final = df.final_stage
    if final is None:
        return None
    if side == "missed":
        base = final.ref if final.parent is None else final.parent.ref
        if "nonroot" in f"{base.repository}:{base.tag}":
            return (
                THEIR_FP,
                f"the base image {final.image} runs as a non-root user; trivy only reads USER lines",
            )
        return None
    other = [i for i in df.of("USER") if df.stage_of(i) is not final]
    if other:
        return THEIR_MISS, (
            f"the final stage (and the stage it is built FROM) set no USER; trivy takes the "
            f"USER of another stage (line {other[-1].line})"
        )
    return None


def _not_a_secret(inst: Instruction) -> str:
    keys = [(n, v or "") for n, v in inst.pairs() if "key" in n.lower() and not is_secret_name(n)]
    if not keys:
        return "no value here is a secret; trivy matches names"
    name, value = keys[0]
    if re.fullmatch(r"(0x)?[0-9A-Fa-f]{16,40}", value.strip()):
        return f"{name} is a public key fingerprint/ID ({value[:18]}...), not a secret; trivy matches `KEY`"
    return f"{name}={value} is a configuration key, not a secret; trivy matches `KEY`"


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
    reasons: Counter[tuple[str, str, str, str, str]] = Counter()  # (category, rule, side, peer, reason)
    details: list[dict[str, object]] = []
    excused: Counter[tuple[str, str]] = Counter()
    for peer, c in comparisons:
        for side, keys in (("missed", c.missed), ("extra", c.extra)):
            for key in keys:
                category, why = explain(c.rule, side, key, runs[peer], args.corpus)
                excused[(peer, c.rule)] += side == "missed" and category in EXCUSED
                reasons[(category, c.rule, side, peer, why)] += 1
                details.append({"rule": c.rule, "peer": peer, "side": side, "file": key[0], "line": key[1],
                                "category": category, "reason": why})  # fmt: skip
    lines = _tables(len(files), args.corpus, runs, comparisons, excused)
    lines += _category_table(reasons)
    lines += ["", "## differences (count x rule side (peer) [category]: reason)", ""]
    ordered = sorted(reasons.items(), key=lambda kv: kv[0][1:])
    lines += [f"- {n} x {rule} {side} ({peer}) [{cat}]: {why}" for (cat, rule, side, peer, why), n in ordered]
    if args.details:
        lines += ["", "## every difference", ""]
        lines += [f"- {d['rule']} {d['side']} {d['file']}:{d['line']} ({d['peer']}) [{d['category']}]: "
                  f"{d['reason']}" for d in details]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lint.md").write_text(text + "\n")
    rows = [{"peer": p, "rule": c.rule, "theirs": c.theirs, "ours": c.ours, "matched": c.matched,
             "missed": c.missed, "extra": c.extra} for p, c in comparisons]  # fmt: skip
    doc = {"seconds": {n: r.seconds for n, r in runs.items()}, "rules": rows, "differences": details}
    (RESULTS / "lint.json").write_text(json.dumps(doc, indent=2))
    unexplained = sum(n for key, n in reasons.items() if key[0] == UNEXPLAINED[0])
    return 1 if unexplained else 0


def _category_table(reasons: Counter[tuple[str, str, str, str, str]]) -> list[str]:
    lines = ["", "| category | missed (theirs only) | extra (ours only) |", "| --- | ---: | ---: |"]
    for category in (*CATEGORIES, UNEXPLAINED[0]):
        missed = sum(n for k, n in reasons.items() if k[0] == category and k[2] == "missed")
        extra = sum(n for k, n in reasons.items() if k[0] == category and k[2] == "extra")
        if missed or extra or category != UNEXPLAINED[0]:
            lines.append(f"| {category} | {missed} | {extra} |")
    return lines


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
    excused: Counter[tuple[str, str]],
) -> list[str]:
    ours = runs["pysandbox"]
    lines = [f"# lint benchmark: {n_files} Dockerfiles ({corpus})", "",
             "| tool | wall s | time / pysandbox |", "| --- | ---: | ---: |"]  # fmt: skip
    for run in runs.values():
        lines.append(f"| {run.name} | {run.seconds:.2f} | {run.seconds / ours.seconds:.1f}x |")
    lines += ["", f"recall* leaves out their findings explained as {', '.join(sorted(EXCUSED))}.", "",
              "| rule | tool | theirs | ours | matched | recall | recall* | missed | extra |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for peer, c in comparisons:
        fp = excused[(peer, c.rule)]
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
