"""BuildKit's word processing: quotes, escapes and ARG/ENV substitution.

The Go parser keeps quotes in ENV/ARG/LABEL values and leaves `$VAR` unexpanded; BuildKit's
`shell.Lex.ProcessWord` does that later. This module does the same for the linter, with one
difference that matters for linting: a variable that is not defined stays as written (`$TAG`)
instead of expanding to "", so rules can tell "no tag" from "tag given by a build arg".
"""

from __future__ import annotations

from collections.abc import Mapping

_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | set("0123456789")


def process_word(text: str, env: Mapping[str, str | None], escape: str = "\\") -> str:
    """Remove quotes and escapes and substitute variables, as BuildKit does for a single word."""
    if not any(c in text for c in ("'", '"', "$", escape)):
        return text
    return _Lexer(text, env, escape).word()


def expand(text: str, env: Mapping[str, str | None], escape: str = "\\") -> str:
    """Substitute variables only (quotes kept): for image names and paths that are not quoted."""
    if "$" not in text:
        return text
    return _Lexer(text, env, escape, keep_quotes=True).word()


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str | None], escape: str, keep_quotes: bool = False):
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape
        self.keep_quotes = keep_quotes

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def word(self, stop: str = "") -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.peek()
            if stop and ch in stop:
                break
            if ch == "'" and not self.keep_quotes:
                self.take()
                out.append(self.single_quoted())
            elif ch == '"' and not self.keep_quotes:
                self.take()
                out.append(self.double_quoted())
            elif ch == self.escape and not self.keep_quotes:
                self.take()
                out.append(self.take())
            elif ch == "$":
                self.take()
                out.append(self.dollar())
            else:
                out.append(self.take())
        return "".join(out)

    def single_quoted(self) -> str:
        end = self.text.find("'", self.pos)
        if end < 0:
            end = len(self.text)
        value = self.text[self.pos : end]
        self.pos = end + 1
        return value

    def double_quoted(self) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.take()
            if ch == '"':
                break
            if ch == self.escape and self.peek() in ('"', "$", self.escape):
                out.append(self.take())
            elif ch == "$":
                out.append(self.dollar())
            else:
                out.append(ch)
        return "".join(out)

    def dollar(self) -> str:
        start = self.pos - 1
        ch = self.peek()
        if ch == "{":
            self.take()
            return self.braced(start)
        if ch and ch in _NAME_START:
            name = self.name()
            return self.lookup(name, self.text[start : self.pos])
        return "$"

    def name(self) -> str:
        begin = self.pos
        while self.peek() and self.peek() in _NAME_CHARS:
            self.pos += 1
        return self.text[begin : self.pos]

    def braced(self, start: int) -> str:
        name = self.name()
        op = ""
        if self.peek() == ":":
            op = self.take()
        if self.peek() in ("-", "+", "?"):
            op += self.take()
        elif op:  # `${VAR:...}` substring forms are not supported by BuildKit either: keep as written
            op = ""
        arg = self.word(stop="}") if op else ""
        while self.peek() and self.peek() != "}":
            self.take()
        self.take()
        raw = self.text[start : self.pos]
        if not name:
            return raw
        defined = name in self.env
        value = self.env.get(name)
        is_set = defined and value is not None
        non_empty = is_set and value != ""
        if op == ":-":
            return value if non_empty and value is not None else arg
        if op == "-":
            return value if is_set and value is not None else arg
        if op == ":+":
            return arg if non_empty else ""
        if op == "+":
            return arg if is_set else ""
        if op in (":?", "?"):
            return value if is_set and value is not None else raw
        return self.lookup(name, raw)

    def lookup(self, name: str, raw: str) -> str:
        value = self.env.get(name)
        return raw if value is None else value


def split_key_value(word: str) -> tuple[str, str | None]:
    """`KEY=value` -> (KEY, value); `KEY` -> (KEY, None)."""
    key, sep, value = word.partition("=")
    return key, (value if sep else None)
