"""Where pysandbox keeps its state (DESIGN.md: PYSANDBOX_HOME).

`location(...)` gives plain strings for the `run` fast path (no pathlib import there); the
functions returning `Path` are for everything else.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from pathlib import Path

STATE = "sandboxes"
CACHE = "cache"
AUDIT_DB = "audit.db"
CONFIG = "config.yaml"  # the audit sinks (audit/sinks/config.py)
SINKS_ENV = "PYSANDBOX_AUDIT_SINKS"  # more audit sinks, beside the config file


def home_dir() -> str:
    explicit = os.environ.get("PYSANDBOX_HOME")
    if explicit:
        return explicit
    if os.geteuid() == 0:
        return "/var/lib/pysandbox"
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(xdg, "pysandbox")


def location(*parts: str) -> str:
    """A path under PYSANDBOX_HOME, as a string."""
    return os.path.join(home_dir(), *parts)


def _path(*parts: str) -> Path:
    from pathlib import Path

    return Path(location(*parts))


def home() -> Path:
    return _path()


def cache_dir() -> Path:
    return _path(CACHE)


def state_dir() -> Path:
    """Per-sandbox runtime state (names, pids); one sub-directory per running sandbox."""
    return _path(STATE)


def images_dir() -> Path:
    return _path("images")


def volumes_dir() -> Path:
    return _path("volumes")


def audit_db() -> Path:
    return _path(AUDIT_DB)


def check_absent(path: str) -> None:
    """For readers of a file under PYSANDBOX_HOME that is not there: fine when nothing has
    written it yet; a UserError when it cannot be there (a home that is not a directory)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return
    except NotADirectoryError:
        blocker = os.path.dirname(path)
        while os.path.dirname(blocker) != blocker and not os.path.exists(blocker):
            blocker = os.path.dirname(blocker)
        is_home = os.path.normpath(blocker) == os.path.normpath(home_dir())
        what = f"PYSANDBOX_HOME {blocker}" if is_home else blocker
        fail = f"{what} is not a directory, so there is no {path}: set PYSANDBOX_HOME to a directory"
    except OSError as exc:
        fail = f"cannot read {path}: {exc.strerror}: check PYSANDBOX_HOME and its permissions"
    else:
        return
    from pysandbox.types import UserError

    raise UserError(fail)
