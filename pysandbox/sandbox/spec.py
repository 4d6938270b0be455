"""RunSpec: everything one launch needs, and the parsers for the flags that build it.

Shared by the CLI (`cli_run`) and the Python API (`sandbox.api`), so both reject bad input with
the same one-line messages.
"""

from __future__ import annotations

import os

from pysandbox.policies.model import Profile
from pysandbox.record import record
from pysandbox.types import SandboxError, is_decimal

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FORWARDED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")


@record(frozen=True)
class Volume:
    """`-v SRC:DST[:ro|rw]`: a bind of a host path, or of a named volume's data directory."""

    source: str  # absolute host path (named volumes are resolved to their directory)
    target: str  # absolute path inside the sandbox
    read_only: bool = False
    name: str | None = None  # set for a named volume

    @property
    def spec(self) -> str:
        mode = ":ro" if self.read_only else ""
        return f"{self.name or self.source}:{self.target}{mode}"


@record(frozen=True)
class Tmpfs:
    target: str
    size: int | None = None  # bytes
    mode: int = 0o1777


@record(frozen=True)
class RunSpec:
    profile: Profile
    argv: tuple[str, ...]
    rootfs: str | None = None  # a directory used as the overlay's only lower layer
    lowerdirs: tuple[str, ...] = ()  # image layers, top first (instead of rootfs)
    volumes: tuple[Volume, ...] = ()
    tmpfs: tuple[Tmpfs, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # applied over the defaults, in order
    workdir: str = "/"
    name: str | None = None
    keep: bool = False
    publish: tuple[Any, ...] = ()  # `-p` specs, or network.PortMapping as Sandbox checked them
    forward_signals: bool = False
    allow_unsafe: bool = False
    image: str | None = None
    overrides: tuple[str, ...] = ()  # audit: what the CLI changed in the profile
    run_image: Any = None  # images.runtime.RunImage of `image`: held while the sandbox runs
    overlay_options: tuple[str, ...] = ()  # what the image store's layers need (RunImage.overlay_options)
    tty: bool = False  # a terminal of the sandbox's devpts for the workload, relayed to stdin/stdout

    @property
    def layers(self) -> tuple[str, ...]:
        return self.lowerdirs or ((self.rootfs,) if self.rootfs else ())


def fail(message: str) -> SandboxError:
    return SandboxError(message)


def check_target(target: str, what: str) -> str:
    if not target:
        raise fail(f"{what} no target: give the absolute path to mount at, e.g. /data")
    if not target.startswith("/"):
        raise fail(f"{what} target {target!r} is not an absolute path: write it as /{target.lstrip('./')}")
    norm = os.path.normpath(target)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    if norm in ("/", "/dev", "/proc") or norm.startswith("/proc/"):
        # the sandbox builds these itself; under /dev a device or a tmpfs (/dev/shm) is fine
        raise fail(f"{what} target {target!r} is not allowed: mount somewhere other than /, /dev and /proc")
    return norm


def check_mount_points(targets: Iterable[str]) -> None:
    """Two mounts on one target would stack, the second hiding the first: refused, as docker does."""
    seen: set[str] = set()
    for target in targets:
        if target in seen:
            raise fail(f"duplicate mount point {target}: give each -v and --tmpfs a target of its own")
        seen.add(target)


def parse_volume(text: str) -> Volume:
    """`SRC:DST[:ro|rw]`; SRC without a `/` is a named volume (resolved later)."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise fail(f"bad volume {text!r}: use -v SRC:DST[:ro|rw] with an absolute DST")
    mode = parts[2] if len(parts) == 3 else "rw"
    options = [o for o in mode.split(",") if o]
    unknown = [o for o in options if o not in ("ro", "rw")]
    if unknown or ("ro" in options and "rw" in options):
        raise fail(f"bad volume {text!r}: unknown mode {mode!r}, use ro or rw")
    target = check_target(parts[1], f"volume {text!r}:")
    source = parts[0]
    if "/" not in source and not source.startswith("."):
        return Volume(source="", target=target, read_only="ro" in options, name=source)
    return Volume(source=os.path.abspath(source), target=target, read_only="ro" in options)


_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
MAX_SIZE = (1 << 63) - 1  # bytes: the kernel's limits are signed 64-bit (8 EiB less a byte)


def parse_size(text: str, what: str, unlimited: bool = False) -> int:
    """`512m` -> bytes; `-1` -> -1 when `unlimited` (docker's --memory-swap -1: no swap limit)."""
    raw = text.strip().lower()
    if unlimited and raw == "-1":
        return -1
    unit = raw[-1:] if raw[-1:] in ("k", "m", "g", "b") else ""
    number = raw[: len(raw) - len(unit)]
    if not is_decimal(number):
        also = ", or -1 for no limit" if unlimited else ""
        raise fail(f"bad size {text!r} for {what}: use a number with an optional k, m or g suffix{also}")
    size = int(number) * _SIZE_UNITS[unit]
    if size > MAX_SIZE:
        raise fail(
            f"bad size {text!r} for {what}: it is over 8 EiB, the kernel's limit: use a real size, e.g. 512m"
        )
    return size


def is_cpu_list(text: str) -> bool:
    """`0-1`, `0,2`, `0-1,4-7`: comma-separated cpu numbers and ascending ranges, nothing else."""
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        if not is_decimal(lo) or (dash and (not is_decimal(hi) or int(hi) < int(lo))):
            return False
    return True


def parse_cpu_list(text: str) -> set[int]:
    """The cpus of a list that is_cpu_list accepted (spaces ignored)."""
    cpus: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if part:
            lo, _, hi = part.partition("-")
            cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def check_mode(value: str, text: str) -> int:
    """A tmpfs `mode=`: octal digits only, 0 to 7777 (int() would also take -1, +7 or 0o7)."""
    if not value or value.strip("01234567") or int(value, 8) > 0o7777:
        raise fail(f"bad tmpfs mode {value!r} in {text!r}: use octal 0 to 7777, e.g. mode=1777")
    return int(value, 8)


def parse_tmpfs(text: str) -> Tmpfs:
    """`DST[:size=64m,mode=1777]`."""
    target, _, opts = text.partition(":")
    target = check_target(target, f"tmpfs {text!r}:")
    size, mode = None, 0o1777
    for opt in filter(None, opts.split(",")):
        key, _, value = opt.partition("=")
        if key == "size" and value:
            size = parse_size(value, f"--tmpfs {text}")
        elif key == "mode" and value:
            mode = check_mode(value, text)
        else:
            raise fail(f"bad tmpfs option {opt!r} in {text!r}: use size=SIZE and mode=OCTAL")
    return Tmpfs(target=target, size=size, mode=mode)


def parse_env(items: list[str], host: dict[str, str] | os._Environ[str]) -> list[tuple[str, str]]:
    """`K=V`, or `K` alone for the caller's value (skipped when the caller has none), as docker."""
    out: list[tuple[str, str]] = []
    for item in items:
        key, eq, value = item.partition("=")
        if not key or "\0" in item:
            raise fail(f"bad environment variable {item!r}: use -e KEY=VALUE or -e KEY")
        if eq:
            out.append((key, value))
        elif key in host:
            out.append((key, host[key]))
    return out


def read_env_file(path: str) -> list[str]:
    """Docker's --env-file: one K=V or K per line, `#` comments and blank lines skipped; leading
    blanks go, the value is kept as written (trailing blanks too), a name with a blank in it is
    refused (`export K=V` is shell, not an env file)."""
    from pysandbox.userfiles import read_text  # only with --env-file: off the `run` path

    text = read_text(path, "env file", "give --env-file a UTF-8 file of KEY=VALUE lines", error=fail)
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        name = line.partition("=")[0]
        if "\0" in line:
            raise fail(f"env file {path} line {number}: it contains a NUL byte: remove it")
        if name != "".join(name.split()):
            raise fail(f"env file {path} line {number}: variable {name!r} contains whitespace: "
                       "write KEY=VALUE lines (no `export`, no blanks around =)")  # fmt: skip
        items.append(line)
    return items


def parse_user(text: str) -> tuple[int, int | None]:
    """`UID[:GID]` with numeric ids (names would need the sandbox's /etc/passwd)."""
    uid_text, _, gid_text = text.partition(":")
    try:
        uid = int(uid_text)
        gid = int(gid_text) if gid_text else None
    except ValueError:
        raise fail(f"bad user {text!r}: use numeric UID[:GID], e.g. --user 1000:1000") from None
    if uid < 0 or (gid is not None and gid < 0):
        raise fail(f"bad user {text!r}: ids must not be negative")
    return uid, gid


def build_env(spec: RunSpec, image_env: tuple[str, ...] = ()) -> dict[str, str]:
    uid = spec.profile.user.uid
    env = {
        "PATH": DEFAULT_PATH,
        "HOME": "/root" if uid == 0 else "/",
        "TERM": os.environ.get("TERM") or "xterm",
    }
    for item in image_env:
        key, _, value = item.partition("=")
        if key:
            env[key] = value
    env.update(spec.env)
    return env
