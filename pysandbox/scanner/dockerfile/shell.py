"""Shell analysis of RUN (and shell-form CMD/ENTRYPOINT): the simple commands a script runs.

`analyze(text)` tokenizes a script with bashlex into simple commands across `&&`, `||`, `;`,
pipelines, subshells, `if`/`for`/`while` bodies and `$(...)`; scripts bashlex cannot parse (it has
no `case` patterns, `[[`, some heredoc forms) fall back to a shlex split on the same operators.
Commands run through a wrapper (`sudo X`, `env A=1 X`, `sh -c "X"`) are listed as well, so a rule
looking for `apt-get` also sees `sudo apt-get` and `sh -c 'apt-get ...'`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox sh"})
# wrapper -> options of the wrapper that take a value (so the wrapped command is found after them)
_WRAPPERS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "nohup": frozenset(),
    "time": frozenset({"-f", "-o", "--format", "--output"}),
    "exec": frozenset({"-a"}),
    "command": frozenset(),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "eatmydata": frozenset(),
}
_RESERVED = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!"})
_SEPARATORS = frozenset({";", "&&", "||", "&", "|", "|&", "(", ")", ";;", "\n"})
_REDIRECTS = frozenset({">", ">>", "<", "<<", "<<<", ">&", "<&", "&>", "&>>", ">|", "<>"})
_MAX_DEPTH = 3
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Command:
    """One simple command: `words[0]` is the program, the rest its arguments (quotes removed)."""

    words: tuple[str, ...]
    assignments: tuple[str, ...] = ()
    redirects: tuple[tuple[str, str], ...] = ()
    pipeline: int = 0  # commands that share this id are one pipeline, in pipe_index order
    pipe_index: int = 0
    wrapper: str | None = None  # "sudo" for the `X` of `sudo X`; "sh -c" for commands of `sh -c "..."`

    @property
    def name(self) -> str:
        """Program name without its directory: `/usr/bin/apt-get` -> `apt-get`."""
        return self.words[0].rsplit("/", 1)[-1] if self.words else ""

    @property
    def args(self) -> tuple[str, ...]:
        return self.words[1:]

    def is_(self, name: str, *subcommands: str) -> bool:
        """`cmd.is_("apt-get", "install")`: program and (when given) first positional argument."""
        if self.name != name:
            return False
        return not subcommands or self.subcommand in subcommands

    @property
    def subcommand(self) -> str | None:
        positional = self.positional()
        return positional[0] if positional else None

    def flags(self) -> set[str]:
        """Flag names as hadolint sees them: `--foo=1` -> foo, `-abc` -> a, b, c; `--` ends flags."""
        found: set[str] = set()
        for arg in self.args:
            if arg == "--":
                break
            if arg.startswith("--"):
                found.add(arg[2:].split("=", 1)[0])
            elif arg.startswith("-") and len(arg) > 1:
                found.update(arg[1:])
        return found

    def has_flag(self, *names: str) -> bool:
        """`has_flag("y", "yes", "assume-yes")`: short names are one letter, long ones longer."""
        present = self.flags()
        return any(n.lstrip("-") in present for n in names)

    def flag_value(self, *names: str) -> str | None:
        """Value of `--name=value`, `--name value` or `-n value` (first match)."""
        args = self.args
        for i, arg in enumerate(args):
            for name in names:
                opt = ("--" if len(name.lstrip("-")) > 1 else "-") + name.lstrip("-")
                if arg == opt and i + 1 < len(args):
                    return args[i + 1]
                if arg.startswith(opt + "="):
                    return arg[len(opt) + 1 :]
                if len(opt) == 2 and arg.startswith(opt) and len(arg) > 2 and not arg.startswith("--"):
                    return arg[2:]
        return None

    def positional(self, options_with_value: Collection[str] = ()) -> list[str]:
        """Arguments that are not flags; `options_with_value` lists flags whose value is the next word."""
        out: list[str] = []
        args = self.args
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                out.extend(args[i + 1 :])
                break
            if arg.startswith("-") and len(arg) > 1:
                if arg in options_with_value:
                    i += 1
            else:
                out.append(arg)
            i += 1
        return out

    def has_arg(self, *values: str) -> bool:
        return any(a in values for a in self.args)


@dataclass
class ShellScript:
    text: str
    commands: list[Command] = field(default_factory=list)
    parsed: bool = True  # False when bashlex failed and the shlex fallback was used

    def __iter__(self) -> Iterator[Command]:
        return iter(self.commands)

    def find(self, name: str, *subcommands: str) -> list[Command]:
        return [c for c in self.commands if c.is_(name, *subcommands)]

    def has(self, name: str, *subcommands: str) -> bool:
        return any(c.is_(name, *subcommands) for c in self.commands)

    def names(self) -> set[str]:
        return {c.name for c in self.commands}

    def pipelines(self) -> list[list[Command]]:
        """Commands grouped by pipeline (only groups of two or more: `a | b`)."""
        groups: dict[int, list[Command]] = {}
        for c in self.commands:
            if c.wrapper is None or c.wrapper == "sh -c":
                groups.setdefault(c.pipeline, []).append(c)
        return [sorted(g, key=lambda c: c.pipe_index) for g in groups.values() if len(g) > 1]


def analyze(text: str) -> ShellScript:
    """Commands of a shell script. Results are shared: identical RUN scripts recur across files."""
    cached = _CACHE.get(text)
    if cached is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        cached = _CACHE[text] = _analyze(text)
    return cached


_CACHE: dict[str, ShellScript] = {}
_CACHE_SIZE = 4096


def _analyze(text: str) -> ShellScript:
    builder = _Builder()
    parsed = builder.add_script(text, depth=0)
    return ShellScript(text=text, commands=builder.commands, parsed=parsed)


def strip_comments(text: str, hash_comments: bool = True) -> str:
    """The script without `# ...` comments (when `hash_comments`) and without backtick comments.

    A `# comment` starts at the beginning of a word, outside quotes, and runs to the end of the line.
    `` `# comment` `` is the Dockerfile idiom for a comment inside a continued RUN line: the shell
    runs it as an empty command substitution, so dropping it does not change what runs.
    """
    if "#" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        ch = text[i]
        if ch == "\\" and quote != "'":
            out.append(text[i : i + 2])
            i += 2
            continue
        if quote is not None:
            if ch == quote:
                quote = None
            elif ch == "`" and quote == '"':
                i = _backtick(text, i, out)
                continue
            out.append(ch)
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "`":
            i = _backtick(text, i, out)
            continue
        elif ch == "#" and hash_comments and (i == 0 or text[i - 1] in " \t\n;&|()"):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _backtick(text: str, start: int, out: list[str]) -> int:
    """Copy the `...` substitution at `start` to `out` unless it is a comment; return the index after it."""
    end = start + 1
    while end < len(text) and text[end] != "`":
        end += 2 if text[end] == "\\" else 1
    if not text[start + 1 : end].lstrip().startswith("#"):
        out.append(text[start : end + 1])
    return end + 1


def analyze_argv(argv: Sequence[str]) -> ShellScript:
    """Exec form (`RUN ["sh", "-c", "..."]`): one command, plus what a `sh -c` script runs."""
    builder = _Builder()
    if argv:
        builder.add_command(tuple(argv), (), (), builder.next_pipeline(), 0, None, depth=0)
    return ShellScript(text=" ".join(argv), commands=builder.commands)


class _Builder:
    def __init__(self) -> None:
        self.commands: list[Command] = []
        self._pipeline = 0

    def next_pipeline(self) -> int:
        self._pipeline += 1
        return self._pipeline

    def add_script(self, text: str, depth: int) -> bool:
        if not text.strip():
            return True
        text = strip_comments(text, hash_comments=False)  # bashlex knows `#` but not `# ...` in backticks
        try:
            import bashlex

            trees = bashlex.parse(text)
        except Exception:  # bashlex raises many types (ParsingError, NotImplementedError, ...)
            self._fallback(text, depth)
            return False
        start = len(self.commands)
        try:
            for tree in trees:
                self._walk(tree, depth)
        except Exception:  # malformed trees in corner cases: redo this script with the fallback
            del self.commands[start:]
            self._fallback(text, depth)
            return False
        return True

    def _walk(self, node: Any, depth: int, pipeline: int | None = None, index: int = 0) -> None:
        """`pipeline`/`index`: the pipeline stage this node is, passed down into `{ ...; } | cmd` groups."""
        kind = node.kind
        if kind == "command":
            self._command_node(node, depth, pipeline if pipeline is not None else self.next_pipeline(), index)
        elif kind == "pipeline":
            pid = self.next_pipeline()
            i = 0
            for part in node.parts:
                if part.kind != "pipe":
                    self._walk(part, depth, pid, i)
                    i += 1
        elif kind == "compound":
            for part in node.list:
                self._walk(part, depth, pipeline, index)
        elif kind in ("list", "if", "for", "while", "until"):
            for part in node.parts:
                self._walk(part, depth, pipeline, index)
        elif kind == "function":
            for part in node.parts:
                self._walk(part, depth)
        elif kind == "word":
            self._substitutions(node, depth)

    def _substitutions(self, word: Any, depth: int) -> None:
        for part in getattr(word, "parts", ()):
            if part.kind in ("commandsubstitution", "processsubstitution"):
                self._walk(part.command, depth)

    def _command_node(self, node: Any, depth: int, pipeline: int, index: int) -> None:
        words: list[str] = []
        assignments: list[str] = []
        redirects: list[tuple[str, str]] = []
        for part in node.parts:
            if part.kind == "word":
                words.append(part.word)
                self._substitutions(part, depth)
            elif part.kind == "assignment":
                if words:
                    words.append(part.word)
                else:
                    assignments.append(part.word)
                self._substitutions(part, depth)
            elif part.kind == "redirect":
                target = part.output
                redirects.append((part.type, target.word if hasattr(target, "word") else str(target)))
            elif part.kind in ("compound", "list"):
                self._walk(part, depth)
        if words:
            self.add_command(tuple(words), tuple(assignments), tuple(redirects), pipeline, index, None, depth)

    def add_command(
        self,
        words: tuple[str, ...],
        assignments: tuple[str, ...],
        redirects: tuple[tuple[str, str], ...],
        pipeline: int,
        index: int,
        wrapper: str | None,
        depth: int,
    ) -> None:
        cmd = Command(words, assignments, redirects, pipeline, index, wrapper)
        self.commands.append(cmd)
        if depth >= _MAX_DEPTH:
            return
        inner = _unwrap(cmd)
        if inner is not None:
            self.add_command(inner, (), redirects, pipeline, index, cmd.name, depth + 1)
            return
        script = _shell_c_script(cmd)
        if script is not None:
            before = len(self.commands)
            self.add_script(script, depth + 1)
            self.commands[before:] = [_rewrap(c, "sh -c") for c in self.commands[before:]]

    def _fallback(self, text: str, depth: int) -> None:
        for words, pipeline_pos in _shlex_commands(text):
            pid = self.next_pipeline() if pipeline_pos == 0 else self._pipeline
            n = 0
            while n < len(words) and _ASSIGNMENT.match(words[n]):
                n += 1
            if n < len(words):
                self.add_command(tuple(words[n:]), tuple(words[:n]), (), pid, pipeline_pos, None, depth)


def _rewrap(cmd: Command, wrapper: str) -> Command:
    if cmd.wrapper is not None:
        return cmd
    return Command(cmd.words, cmd.assignments, cmd.redirects, cmd.pipeline, cmd.pipe_index, wrapper)


def _unwrap(cmd: Command) -> tuple[str, ...] | None:
    value_opts = _WRAPPERS.get(cmd.name)
    if value_opts is None:
        return None
    args = list(cmd.args)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if cmd.name == "env" and "=" in arg and not arg.startswith("-"):
            i += 1
            continue
        if not arg.startswith("-"):
            break
        i += 2 if arg in value_opts else 1
    rest = tuple(args[i:])
    return rest or None


def _shell_c_script(cmd: Command) -> str | None:
    if cmd.name in ("su", "runuser"):  # su [-] [user] -c "script"
        return cmd.flag_value("c", "command")
    if cmd.name not in _SHELLS:
        return None
    args = cmd.args
    for i, arg in enumerate(args):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            rest = [a for a in args[i + 1 :] if not a.startswith("-")]
            return rest[0] if rest else None
        if not arg.startswith("-"):
            return None
    return None


def _shlex_commands(text: str) -> Iterator[tuple[list[str], int]]:
    """Fallback split: yields (words, position in pipeline) for each simple command."""
    # comments are removed first: shlex would also take the `#` inside a word (`http://x/#top`) for one
    lexer = shlex.shlex(strip_comments(text).replace("\n", " ; "), posix=True, punctuation_chars=";&|()<>")
    lexer.commenters = ""
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes
        tokens = text.replace("\n", " ; ").split()
    # `2>&1`: the fd number before a redirection is not an argument
    tokens = [
        t
        for i, t in enumerate(tokens)
        if not (t.isdigit() and tokens[i + 1 : i + 2] and tokens[i + 1] in _REDIRECTS)
    ]
    words: list[str] = []
    pipe_pos = 0
    skip_until: str | None = None  # header of `for ... do` / `case ... in`
    cases = 0  # depth of `case` bodies
    in_pattern = False  # between `in`/`;;` and the `)` that ends a case pattern
    previous = ""  # the token before `tok`
    tokens_iter = iter(tokens)
    for tok in tokens_iter:
        before, previous = previous, tok
        if skip_until is not None:
            if tok == skip_until:
                skip_until = None
                in_pattern = tok == "in"
            continue
        if in_pattern:
            if tok == ")":
                in_pattern = False
            elif tok == "esac":
                in_pattern, cases = cases > 1, cases - 1
            continue
        if tok in _REDIRECTS:
            next(tokens_iter, None)
            continue
        if tok in _SEPARATORS or tok == "esac":
            if words:
                yield words, pipe_pos
            # `{ a; } | b` and `( a ) | b`: the group's last command feeds the pipe
            piped = words or before in ("}", ")")
            pipe_pos = pipe_pos + 1 if tok in ("|", "|&") and piped else 0
            words = []
            if tok == ";;" and cases:
                in_pattern = True
            elif tok == "esac" and cases:
                cases -= 1
            continue
        if not words:
            if tok in _RESERVED:
                continue
            if tok in ("for", "select", "case"):
                skip_until = "in" if tok == "case" else "do"
                cases += tok == "case"
                continue
        words.append(tok)
    if words:
        yield words, pipe_pos
