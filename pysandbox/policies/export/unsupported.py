"""The ledger every exporter keeps: which profile features it carried over to the target, which it
could not express there (each said on stderr, one line per feature), and which the profile leaves
unset. Nothing is dropped silently: `check_complete` proves every profile field was accounted for.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field

from pysandbox.policies.model import (
    DOCKER_MASKED_PATHS,
    DOCKER_READONLY_PATHS,
    Profile,
    bind_annotation_names,
)

# Profile fields that describe the profile rather than restrict the workload.
_DESCRIPTIVE = frozenset({"name", "description"})


def profile_features(cls: type = Profile, prefix: str = "") -> tuple[str, ...]:
    """Every leaf field of the profile model as a dotted path (`limits.memory`, `rlimits`, ...)."""
    out: list[str] = []
    bind_annotation_names()
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not prefix and f.name in _DESCRIPTIVE:
            continue
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp) and isinstance(tp, type) and f.name != "rlimits":
            out.extend(profile_features(tp, f"{prefix}{f.name}."))
        else:
            out.append(f"{prefix}{f.name}")
    return tuple(out)


@dataclass(frozen=True)
class Note:
    """A profile feature the target cannot express (or only in part), and what to do about it."""

    feature: str
    target: str
    reason: str
    partial: bool = False

    def line(self) -> str:
        what = "is only partly expressible" if self.partial else "is not expressible"
        return f"{self.feature} {what} in {self.target}: {self.reason}"


@dataclass
class Ledger:
    target: str
    carried: list[str] = field(default_factory=list)
    unset: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    info: list[str] = field(default_factory=list)  # what the user must do with the output

    def carry(self, *features: str) -> None:
        self.carried.extend(f for f in features if f not in self.carried)

    def skip(self, *features: str) -> None:
        """Features the profile leaves unset or off: nothing to express."""
        self.unset.extend(f for f in features if f not in self.unset)

    def lacks(self, feature: str, reason: str) -> None:
        self.notes.append(Note(feature, self.target, reason))

    def lacks_if(self, active: object, feature: str, reason: str) -> None:
        """Not expressible when the profile sets `feature` (`active` is true), else unset."""
        if active:
            self.lacks(feature, reason)
        else:
            self.skip(feature)

    def partly(self, feature: str, reason: str) -> None:
        self.carry(feature)
        self.notes.append(Note(feature, self.target, reason, partial=True))

    def tell(self, message: str) -> None:
        self.info.append(message)

    @property
    def not_expressible(self) -> list[str]:
        return [n.feature for n in self.notes if not n.partial]

    def accounted(self) -> set[str]:
        return set(self.carried) | set(self.unset) | {n.feature for n in self.notes}

    def missing(self) -> list[str]:
        """Profile features this exporter neither carried, skipped nor reported (should be none)."""
        done = self.accounted()
        return [f for f in profile_features() if f not in done]

    def lines(self) -> list[str]:
        return [f"pysandbox: note: {n.line()}" for n in self.notes] + [
            f"pysandbox: info: {m}" for m in self.info
        ]


def no_mount_policy(
    profile: Profile, ledger: Ledger, why: str, denied: str | None = None, risky: str | None = None
) -> None:
    """The target binds whatever it is given: none of the profile's mount policy carries over."""
    ledger.lacks_if(profile.mounts.denied_host_paths, "mounts.denied_host_paths", denied or why)
    ledger.lacks("mounts.allowed_options", why)
    ledger.lacks("mounts.risky", risky or why)
    ledger.lacks("mounts.allow_volumes", why)


def engine_path_lists(profile: Profile, ledger: Ledger, reason: str) -> None:
    """masked_paths / readonly_paths where the engine applies only its own lists (docker's, which
    cover the profile's defaults). `reason` is a template for the paths beyond them (`{extra}`)."""
    fs = profile.filesystem
    for feature, paths, default in (
        ("filesystem.masked_paths", fs.masked_paths, DOCKER_MASKED_PATHS),
        ("filesystem.readonly_paths", fs.readonly_paths, DOCKER_READONLY_PATHS),
    ):
        extra = sorted(set(paths) - set(default))
        if extra:
            ledger.lacks(feature, reason.format(extra=", ".join(extra)))
        else:
            ledger.carry(feature)
