"""Validation of untrusted profile documents with pydantic (imported only here)."""

from __future__ import annotations

import re
from typing import Any

from pysandbox.policies.model import Profile, bind_annotation_names
from pysandbox.types import UserError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
SIZE_FIELDS = (("limits", "memory"), ("limits", "memory_swap"), ("filesystem", "tmp_size"),
               ("filesystem", "upper_size"))  # fmt: skip


class ProfileError(UserError):
    """A profile document is invalid; `errors` holds one `path: problem` line per field."""

    def __init__(self, source: str, errors: list[str]) -> None:
        super().__init__(f"{source}: invalid profile: " + "; ".join(errors))
        self.errors = errors


def parse_size(value: str | int) -> int:
    """'64m' -> 67108864. Docker's units: b, k, m, g, t (powers of 1024)."""
    if isinstance(value, int):
        return value
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"bad size {value!r}: use a number with an optional unit k, m, g or t (e.g. 256m)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def validate_profile(data: Any, source: str) -> Profile:
    from pydantic import TypeAdapter, ValidationError

    if not isinstance(data, dict):
        raise ProfileError(source, ["the document must be a mapping of profile fields"])
    errors = _normalize_sizes(data)
    for rl in data.get("rlimits") or []:
        if isinstance(rl, dict):
            for key in ("soft", "hard"):
                if rl.get(key) == "unlimited":
                    rl[key] = -1
    if errors:
        raise ProfileError(source, errors)
    try:
        bind_annotation_names()
        return TypeAdapter(Profile).validate_python(data)
    except ValidationError as exc:
        raise ProfileError(source, [_describe(err) for err in exc.errors()]) from None


def _normalize_sizes(data: dict[str, Any]) -> list[str]:
    errors = []
    for section, key in SIZE_FIELDS:
        part = data.get(section)
        if isinstance(part, dict) and isinstance(part.get(key), str):
            try:
                part[key] = parse_size(part[key])
            except ValueError as exc:
                errors.append(f"{section}.{key}: {exc}")
    return errors


def _describe(err: Any) -> str:
    path = ".".join(str(p) for p in err["loc"]) or "(document)"
    if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"{path}: unknown field (check the spelling; `pysandbox profile show default` lists them)"
    if err["type"] == "missing":
        return f"{path}: required field is missing"
    return f"{path}: {err['msg']}"
