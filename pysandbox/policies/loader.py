"""Finding and loading profiles: built-in names or YAML files, with a cache of validated profiles.

The cache keeps pydantic and PyYAML off the `run` fast path: a profile validated once is stored
as JSON under PYSANDBOX_HOME (with the identity of the file it came from: device, inode, size,
mtime and ctime, all checked on every read) and rebuilt with `model.from_dict` on later runs.
"""

from __future__ import annotations

import os
from zlib import crc32

from pysandbox import __version__, fastjson, paths
from pysandbox.policies.model import Profile, from_dict, shape
from pysandbox.types import UserError

# 2: values checked too (validate.value_errors); 3: contradictions (overrides.conflicts); 4:
# capabilities.grant_non_root. A profile cached by an older build is validated again, and so is one
# cached by another profile model (fields or defaults changed): the model's shape is part of the key.
_CACHE_FORMAT = f"4-{crc32(shape().encode()):08x}"
_FIX = "give the path of a readable profile YAML file"

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    BUILTIN_DIR: Path

_BUILTIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "profiles")


def __getattr__(name: str) -> Any:
    if name == "BUILTIN_DIR":  # a Path for other commands; the run path does without pathlib
        from pathlib import Path

        return Path(_BUILTIN)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def builtin_names() -> list[str]:
    return sorted(n[:-5] for n in os.listdir(_BUILTIN) if n.endswith(".yaml"))


def _resolve(name_or_path: str) -> str:
    builtin = os.path.join(_BUILTIN, f"{name_or_path}.yaml")
    if "/" not in name_or_path and os.path.isfile(builtin):
        return builtin
    if os.path.isfile(name_or_path):
        return name_or_path
    names = ", ".join(builtin_names())
    if os.path.exists(name_or_path):  # a directory, a device, a FIFO, a socket
        kind = "a directory" if os.path.isdir(name_or_path) else "not a file"
        fix = f"give a profile YAML file or a built-in ({names})"
        raise UserError(f"profile {name_or_path!r} is {kind}: {fix}")
    raise UserError(f"profile {name_or_path!r} not found: use a built-in ({names}) or a path to a YAML file")


def resolve(name_or_path: str) -> Path:
    """A built-in name (`strict`) or a path to a YAML file."""
    from pathlib import Path

    return Path(_resolve(name_or_path))


def load_profile(name_or_path: str) -> Profile:
    path = _resolve(name_or_path)
    try:
        st = os.stat(path)
    except OSError:  # gone or unreadable since _resolve: reading it says why
        return parse_profile_file(path)
    real = os.path.realpath(path)
    identity = [__version__, _CACHE_FORMAT, real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                st.st_ctime_ns]  # fmt: skip
    cache = _cache_file(real)
    cached = _read_cache(cache, identity)
    if cached is not None:
        return from_dict(Profile, cached)  # type: ignore[no-any-return]
    profile = parse_profile_file(path)
    _write_cache(cache, identity, profile.to_dict())
    return profile


def parse_profile_file(path: str | os.PathLike[str]) -> Profile:
    from pysandbox.policies.validate import validate_profile
    from pysandbox.userfiles import parse_yaml, read_text  # a cached profile needs neither

    path = os.fspath(path)
    data = parse_yaml(read_text(path, "profile", _FIX), "profile", path)
    if isinstance(data, dict) and "name" not in data:
        data["name"] = os.path.splitext(os.path.basename(path))[0]
    return validate_profile(data, path)


def _cache_file(real: str) -> str:
    """One cache file per profile path. The name only spreads paths over files (a CRC, not a
    digest: what the file holds is trusted only when its recorded identity matches)."""
    raw = os.fsencode(real)
    return paths.location(paths.CACHE, "profiles", f"{crc32(raw):08x}{crc32(raw[::-1]):08x}.json")


def _read_cache(cache: str, identity: list[Any]) -> dict[str, Any] | None:
    try:
        with open(cache, encoding="utf-8") as fh:
            data = fastjson.loads(fh.read())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("source") != identity:
        return None
    profile = data.get("profile")
    return profile if isinstance(profile, dict) else None


def _write_cache(cache: str, identity: list[Any], profile: dict[str, Any]) -> None:
    from pathlib import Path  # only on a cache miss: pathlib stays off the warm run path

    from pysandbox.fsutil import atomic_write_text

    try:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        atomic_write_text(Path(cache), fastjson.dumps({"source": identity, "profile": profile}))
    except OSError:
        pass  # the cache is an optimisation; a read-only home must not stop a sandbox
