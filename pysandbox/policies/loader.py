"""Finding and loading profiles: built-in names or YAML files, with a cache of validated profiles.

The cache keeps pydantic and PyYAML off the `run` fast path: a profile validated once is stored
as JSON under PYSANDBOX_HOME and rebuilt with `model.from_dict` on later runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pysandbox import __version__
from pysandbox.paths import cache_dir
from pysandbox.policies.model import Profile, from_dict
from pysandbox.types import UserError

BUILTIN_DIR = Path(__file__).parent / "profiles"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def resolve(name_or_path: str) -> Path:
    """A built-in name (`strict`) or a path to a YAML file."""
    builtin = BUILTIN_DIR / f"{name_or_path}.yaml"
    if "/" not in name_or_path and builtin.is_file():
        return builtin
    path = Path(name_or_path)
    if path.is_file():
        return path
    names = ", ".join(builtin_names())
    raise UserError(f"profile {name_or_path!r} not found: use a built-in ({names}) or a path to a YAML file")


def load_profile(name_or_path: str) -> Profile:
    path = resolve(name_or_path)
    try:
        st = path.stat()
    except OSError as exc:
        raise UserError(f"cannot read profile {path}: {exc.strerror}") from None
    key = hashlib.sha256(f"{__version__}\0{path.resolve()}\0{st.st_mtime_ns}\0{st.st_size}".encode()).hexdigest()
    cached = _read_cache(key)
    if cached is not None:
        return from_dict(Profile, cached)  # type: ignore[no-any-return]
    profile = parse_profile_file(path)
    _write_cache(key, profile.to_dict())
    return profile


def parse_profile_file(path: Path) -> Profile:
    import yaml

    from pysandbox.policies.validate import validate_profile

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UserError(f"cannot read profile {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}:{where} is not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if isinstance(data, dict) and "name" not in data:
        data["name"] = path.stem
    return validate_profile(data, str(path))


def _read_cache(key: str) -> dict[str, Any] | None:
    try:
        with open(cache_dir() / "profiles" / f"{key}.json") as fh:
            data: dict[str, Any] = json.load(fh)
            return data
    except (OSError, ValueError):
        return None


def _write_cache(key: str, data: dict[str, Any]) -> None:
    directory = cache_dir() / "profiles"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, directory / f"{key}.json")
    except OSError:
        pass  # the cache is an optimisation; a read-only home must not stop a sandbox
