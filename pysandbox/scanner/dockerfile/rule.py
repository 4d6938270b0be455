"""The rule framework: a Rule base class, the registry, and discovery of the modules in rules/.

A rule is a subclass of `Rule` (or of `RunRule` / `InstructionRule`, which do the looping) with
class attributes for its metadata. Defining the class registers it; `all_rules()` imports every
module in `pysandbox/scanner/dockerfile/rules/` once. See RULES_HOWTO.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import ClassVar

from pysandbox.discovery import import_submodules
from pysandbox.report import RuleInfo
from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.shell import Command, ShellScript
from pysandbox.types import Finding, Location, Severity

_REGISTRY: dict[str, type[Rule]] = {}
_LOADED = False
DOCS_URI = "https://github.com/pysandbox/pysandbox/blob/main/pysandbox/scanner/dockerfile/rules/"


class Rule:
    """Base class. Subclasses set the metadata and implement `check`."""

    id: ClassVar[str] = ""  # "PSB3008"
    severity: ClassVar[Severity] = Severity.MEDIUM
    title: ClassVar[str] = ""  # short, what is wrong: "apt-get install without pinned versions"
    message: ClassVar[str] = ""  # default message: what is wrong and what to do instead
    fix: ClassVar[str | None] = None  # the concrete change, e.g. "apt-get install foo=1.2.*"
    aliases: ClassVar[tuple[str, ...]] = ()  # "DL3008", "DS-0029", "AVD-DS-0029", "CKV_DOCKER_9"
    module: ClassVar[str] = ""  # set on registration: the rule's module name

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.id:  # an intermediate base class such as RunRule
            return
        if not cls.id.startswith("PSB") or not cls.title or not cls.message:
            raise TypeError(f"rule {cls.__name__}: id must start with PSB, title and message are required")
        other = _REGISTRY.get(cls.id)
        if other is not None and other.__qualname__ != cls.__qualname__:
            raise TypeError(f"rule id {cls.id} defined twice: {other.__module__} and {cls.__module__}")
        cls.module = cls.__module__.rsplit(".", 1)[-1]
        _REGISTRY[cls.id] = cls

    def check(self, df: Dockerfile) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(
        self, df: Dockerfile, line: int | None, message: str | None = None, fix: str | None = None
    ) -> Finding:
        """A finding of this rule at `line` of `df` (message/fix default to the class attributes)."""
        return Finding(
            rule_id=self.id,
            severity=self.severity,
            title=self.title,
            message=message or self.message,
            location=Location(df.path, line),
            fix=fix if fix is not None else self.fix,
            aliases=self.aliases,
        )

    def at(
        self, df: Dockerfile, inst: Instruction, message: str | None = None, fix: str | None = None
    ) -> Finding:
        return self.finding(df, inst.line, message, fix)

    @classmethod
    def info(cls) -> RuleInfo:
        help_text = cls.message + (f"\n\nFix: {cls.fix}" if cls.fix else "")
        if cls.aliases:
            help_text += "\n\nEquivalent to: " + ", ".join(cls.aliases)
        return RuleInfo(cls.id, cls.title, cls.severity, help=help_text,
                        help_uri=f"{DOCS_URI}{cls.module}.py", aliases=cls.aliases)  # fmt: skip


class InstructionRule(Rule):
    """Checks each instruction of the kinds in `instructions` (ONBUILD X counts as X)."""

    instructions: ClassVar[tuple[str, ...]] = ()

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for inst in df.of(*self.instructions):
            yield from self.check_instruction(df, inst)

    def check_instruction(self, df: Dockerfile, inst: Instruction) -> Iterable[Finding]:
        raise NotImplementedError


class RunRule(Rule):
    """Checks the shell analysis of every RUN: override `check_run` (whole script) or `check_command`."""

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for inst in df.of("RUN"):
            script = inst.shell
            if script is not None:
                yield from self.check_run(df, inst, script)

    def check_run(self, df: Dockerfile, inst: Instruction, script: ShellScript) -> Iterable[Finding]:
        for cmd in script.commands:
            message = self.check_command(cmd)
            if message:
                yield self.at(df, inst, message if isinstance(message, str) else None)
                return  # one finding per RUN, as hadolint reports

    def check_command(self, cmd: Command) -> str | bool:
        """Return True (default message) or a specific message when `cmd` breaks the rule."""
        raise NotImplementedError


def all_rules() -> dict[str, type[Rule]]:
    """Every rule, by id (imports the rules package on first call)."""
    global _LOADED
    if not _LOADED:
        import_submodules("pysandbox.scanner.dockerfile.rules")
        _LOADED = True
    return dict(sorted(_REGISTRY.items()))


def resolve_ids(names: Iterable[str]) -> set[str]:
    """Rule ids for names that may be ids or aliases (DL3008, DS-0029, AVD-DS-0029, CKV_DOCKER_9)."""
    by_alias = _alias_map()
    out: set[str] = set()
    for name in names:
        key = name.strip().upper()
        out |= by_alias.get(key, {key})
    return out


_ALIASES: dict[str, set[str]] = {}


def _alias_map() -> dict[str, set[str]]:
    rules = all_rules()
    if _ALIASES.get("\0count") != {str(len(rules))}:
        _ALIASES.clear()
        for rid, cls in rules.items():
            _ALIASES.setdefault(rid.upper(), set()).add(rid)
            for alias in cls.aliases:
                _ALIASES.setdefault(alias.upper(), set()).add(rid)
                if alias.upper().startswith("AVD-"):
                    _ALIASES.setdefault(alias.upper()[4:], set()).add(rid)
        _ALIASES["\0count"] = {str(len(rules))}
    return _ALIASES
