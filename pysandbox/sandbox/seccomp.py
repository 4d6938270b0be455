"""Seccomp filters from Docker/OCI seccomp JSON, compiled by libseccomp (pyseccomp) and cached.

Launcher side (`plan`): the profile JSON is resolved against the sandbox's capabilities and the host
architecture exactly as moby does (archMap, includes/excludes by caps, arches and minKernel), then
turned into libseccomp rules exactly as runc does (unknown syscall names skipped, rules whose action
equals the default action skipped, repeated argument indexes split into separate rules), and the BPF
program libseccomp exports is cached under `cache_dir()/seccomp/`, keyed by the profile file's
identity (checked against the cached header): a hit costs a stat and a small read, and pyseccomp
(about 25 ms to import) is imported only to compile.

Workload side (`load`): seccomp(2) with the cached program, through ctypes, just before execve.

Denials are observed by user-space notification (SECCOMP_RET_USER_NOTIF), not SCMP_ACT_LOG: LOG
*allows* the call, and ERRNO with SECCOMP_FILTER_FLAG_LOG only reaches the kernel audit log / dmesg,
which a rootless launcher cannot read (dmesg_restrict, no audit socket). A notification listener needs
no privilege: the filter's default ERRNO action becomes NOTIFY, the workload hands the listener fd to
the launcher (SCM_RIGHTS) before execve, and the launcher answers every notification with the
profile's errno, so the workload sees exactly what it would see without observation. The listener fd
is close-on-exec in the workload, so the workload can never answer its own notifications. If the
launcher dies, the kernel fails pending and later notifications with ENOSYS: still denied.
"""

from __future__ import annotations

import ctypes
import errno
import os

from pysandbox import fastjson, paths
from pysandbox.record import record
from pysandbox.types import SandboxError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    BUILTIN_DIR: Path

_BUILTIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "policies", "seccomp")
UNCONFINED = "unconfined"
_CACHE_FORMAT = "pysandbox-seccomp-5"  # 4: programs of malformed files are refused; 5: libseccomp by file


def __getattr__(name: str) -> Any:
    if name == "BUILTIN_DIR":  # a Path for other commands; the run path does without pathlib
        from pathlib import Path

        return Path(_BUILTIN)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
# seccomp(2) numbers; libc has no wrapper.
SYS_SECCOMP: dict[str, int] = {"x86_64": 317, "aarch64": 277, "riscv64": 277, "ppc64le": 358, "s390x": 348,
                               "armv7l": 383, "i686": 354, "mips64": 5312}  # fmt: skip
# uname machine -> (GOARCH as moby's includes/excludes.arches name it, the native SCMP_ARCH).
_ARCHES: dict[str, tuple[str, str]] = {
    "x86_64": ("amd64", "SCMP_ARCH_X86_64"),
    "aarch64": ("arm64", "SCMP_ARCH_AARCH64"),
    "armv7l": ("arm", "SCMP_ARCH_ARM"),
    "i686": ("386", "SCMP_ARCH_X86"),
    "ppc64le": ("ppc64le", "SCMP_ARCH_PPC64LE"),
    "s390x": ("s390x", "SCMP_ARCH_S390X"),
    "riscv64": ("riscv64", "SCMP_ARCH_RISCV64"),
    "mips64": ("mips64", "SCMP_ARCH_MIPS64"),
}
_OPS = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ")  # fmt: skip
# Syscalls the workload makes after the filter is loaded and before the launcher holds the listener:
# if the profile does not allow them outright, observing would deadlock, so it is switched off.
_HANDOFF_SYSCALLS = ("sendmsg",)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@record
class Program:
    """A BPF program exported by libseccomp, with the ctypes buffers built before fork."""

    code: bytes
    observe: bool  # the default action is NOTIFY; answer with `default_errno`
    default_errno: int
    source: str  # built-in name or path, for messages
    digest: str
    notices: tuple[str, ...] = ()
    _buf: Any = None  # (underscored fields are left out of the repr)
    _fprog: Any = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled without its ctypes buffers (the fork server rebuilds them)."""
        fields = (self.code, self.observe, self.default_errno, self.source, self.digest, self.notices)
        return (Program, fields)

    def __post_init__(self) -> None:
        if len(self.code) % 8 or not self.code:
            raise SandboxError(f"seccomp profile {self.source}: the compiled program is corrupt")
        self._buf = ctypes.create_string_buffer(self.code, len(self.code))
        self._fprog = _SockFprog(len(self.code) // 8, ctypes.addressof(self._buf))


def _locate(spec: str) -> tuple[str, str] | None:
    """(source for messages, file path) of a built-in name or a path; None for `unconfined`."""
    if spec == UNCONFINED:
        return None
    builtin = os.path.join(_BUILTIN, f"{spec}.json")
    if "/" not in spec and os.path.isfile(builtin):
        return spec, builtin
    return spec, spec


def _unreadable(spec: str, exc: OSError) -> SandboxError:
    names = ", ".join(sorted(n[:-5] for n in os.listdir(_BUILTIN) if n.endswith(".json")))
    return SandboxError(
        f"seccomp profile {spec!r}: {exc.strerror or exc}: use a built-in ({names}, {UNCONFINED}) "
        "or a path to a Docker/OCI seccomp JSON file"
    )


def resolve(spec: str) -> tuple[str, bytes] | None:
    """`default`/`strict` (built-ins), a path to Docker/OCI seccomp JSON, or `unconfined` (None)."""
    located = _locate(spec)
    if located is None:
        return None
    source, path = located
    try:
        with open(path, "rb") as fh:
            return source, fh.read()
    except OSError as exc:
        raise _unreadable(spec, exc) from None


def plan(spec: str, caps: tuple[str, ...], observe: bool = False) -> Program | None:
    """The program for profile `spec` given the sandbox's capabilities; None means unconfined."""
    located = _locate(spec)
    if located is None:
        return None
    source, path = located
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _unreadable(spec, exc) from None
    machine = os.uname().machine
    # The file's identity (ctime changes with any write) instead of a hash of its content: a hit
    # reads no JSON and loads no hashing library. Checked against the header on every read.
    # Which libseccomp compiled a program is checked on reading it too (_library_now).
    identity = "\0".join([_CACHE_FORMAT, machine, _kernel_release(), os.environ.get("LD_LIBRARY_PATH", ""),
                          ",".join(sorted(caps)), str(observe), os.path.realpath(path),
                          _stamp(st)])  # fmt: skip
    key = _cache_key(identity)
    cached = _read_cache(key, source, identity)
    if cached is not None:
        return cached
    resolved = resolve(spec)
    assert resolved is not None
    profile = parse_json(resolved[1], source)
    code, observing, default_errno, notices = compile_profile(profile, caps, observe, source, machine)
    prog = Program(code, observing, default_errno, source, key, notices)
    _write_cache(key, prog, identity)
    return prog


def _stamp(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _cache_key(identity: str) -> str:
    """Spreads identities over cache files (a CRC, not a digest: the header is what is trusted)."""
    from zlib import crc32

    raw = identity.encode()
    return f"{crc32(raw):08x}{crc32(raw[::-1]):08x}"


def parse_json(data: bytes, source: str) -> dict[str, Any]:
    """A seccomp JSON document as an object (SandboxError naming `source` when it is not one)."""
    try:
        import json  # a cache miss: compiling costs far more than the import

        doc = json.loads(data)
    except ValueError as exc:
        raise SandboxError(f"seccomp profile {source}: not valid JSON: {exc}: fix the file") from None
    except RecursionError:
        raise SandboxError(f"seccomp profile {source}: nested too deeply to read: fix the file") from None
    if not isinstance(doc, dict):
        raise SandboxError(f"seccomp profile {source}: the document must be a JSON object with defaultAction")
    check_document(doc, source)
    return doc


# --- the document's shape ----------------------------------------------------------------------------
# moby unmarshals the file into typed Go structs and refuses any other shape; read loosely instead,
# `"names": "mkdir"` would become five one-letter names, skipped as unknown: a rule silently gone.

ACTIONS = ("SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
           "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE", "SCMP_ACT_LOG")  # fmt: skip
_MAX_ERRNO = 4095  # the kernel's: a larger return value is no error to the caller
_MAX_U64 = (1 << 64) - 1


class _Bad(Exception):
    """`path: problem: fix` of the first malformed field."""


def check_document(doc: dict[str, Any], source: str) -> None:
    """Refuses a document moby would not load, naming the first bad JSON path and the fix."""
    try:
        _check_top(doc)
    except _Bad as exc:
        raise SandboxError(f"seccomp profile {source}: {exc}") from None


def _json_type(value: Any) -> str:
    for kind, name in ((bool, "true/false"), (str, "a string"), (int, "a number"), (float, "a number"),
                       (list, "a list"), (dict, "an object")):  # fmt: skip
        if isinstance(value, kind):
            return name
    return "null"


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _quote(value: Any) -> str:
    import json

    return json.dumps(value)


def _field(obj: dict[str, Any], key: str, path: str, kind: type, required: bool = False) -> Any:
    """obj[key] when it is a `kind` (null or absent: None, as Go reads it)."""
    value = obj.get(key)
    if value is None:
        if required:
            raise _Bad(f"{_at(path, key)} is missing: add it (see Docker's seccomp profile format)")
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        want = _json_type(kind())
        raise _Bad(f"{_at(path, key)}: must be {want}, not {_json_type(value)}: fix the file")
    return value


def _strings(obj: dict[str, Any], key: str, path: str) -> None:
    value = obj.get(key)
    if isinstance(value, str):
        raise _Bad(f"{_at(path, key)}: must be a list of strings, not a string: write [{_quote(value)}]")
    for i, item in enumerate(_field(obj, key, path, list) or []):
        if not isinstance(item, str):
            raise _Bad(
                f"{_at(path, key)}[{i}]: must be a string, not {_json_type(item)}: quote it or remove it"
            )


def _objects(obj: dict[str, Any], key: str, path: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for i, item in enumerate(_field(obj, key, path, list) or []):
        where = f"{_at(path, key)}[{i}]"
        if not isinstance(item, dict):
            raise _Bad(f"{where}: must be an object, not {_json_type(item)}: fix the file")
        out.append((where, item))
    return out


def _uint(obj: dict[str, Any], key: str, path: str, top: int, required: bool = False) -> None:
    value = obj.get(key)
    if value is None and not required:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
        raise _Bad(f"{_at(path, key)}: must be an integer from 0 to {top}, not {_quote(value)}: fix the file")


def _check_action(obj: dict[str, Any], key: str, path: str) -> None:
    name = _field(obj, key, path, str, required=True)
    if name not in ACTIONS:
        raise _Bad(f"{_at(path, key)}: unsupported action {name!r}: use {', '.join(ACTIONS)}")


def _check_top(doc: dict[str, Any]) -> None:
    _check_action(doc, "defaultAction", "")
    _uint(doc, "defaultErrnoRet", "", _MAX_ERRNO)
    _strings(doc, "architectures", "")
    _strings(doc, "flags", "")
    for path, entry in _objects(doc, "archMap", ""):
        _field(entry, "architecture", path, str, required=True)
        _strings(entry, "subArchitectures", path)
    for path, rule in _objects(doc, "syscalls", ""):
        _check_rule(rule, path)


def _check_rule(rule: dict[str, Any], path: str) -> None:
    import re

    _strings(rule, "names", path)
    _field(rule, "name", path, str)
    _check_action(rule, "action", path)
    _uint(rule, "errnoRet", path, _MAX_ERRNO)
    for where, arg in _objects(rule, "args", path):
        _uint(arg, "index", where, 5, required=True)
        _uint(arg, "value", where, _MAX_U64)
        _uint(arg, "valueTwo", where, _MAX_U64)
        if _field(arg, "op", where, str, required=True) not in _OPS:
            raise _Bad(f"{where}.op: unknown argument op {arg['op']!r}: use one of {', '.join(_OPS)}")
    for key in ("includes", "excludes"):
        cond = _field(rule, key, path, dict)
        if cond is not None:
            _strings(cond, "caps", _at(path, key))
            _strings(cond, "arches", _at(path, key))
            kernel = _field(cond, "minKernel", _at(path, key), str)
            if kernel is not None and not re.match(r"^[0-9]+\.[0-9]+", kernel):
                raise _Bad(
                    f"{path}.{key}.minKernel: {kernel!r} is no kernel version: use MAJOR.MINOR, e.g. 4.8"
                )


# --- moby's resolution of a profile for one sandbox --------------------------------------------------


def _kernel_release() -> str:
    return os.uname().release


def _kernel_at_least(min_kernel: str) -> bool:
    import re

    want = re.match(r"^(\d+)\.(\d+)", min_kernel)
    have = re.match(r"^(\d+)\.(\d+)", _kernel_release())
    if not want or not have:
        raise SandboxError(
            f"invalid minKernel {min_kernel!r} in seccomp profile: use MAJOR.MINOR such as 4.8"
        )
    return (int(have[1]), int(have[2])) >= (int(want[1]), int(want[2]))


def cap_names(caps: tuple[str, ...]) -> set[str]:
    """Capability names as moby's includes/excludes spell them (`CAP_` prefix, upper case)."""
    return {c if c.startswith("CAP_") else f"CAP_{c}" for c in (x.upper() for x in caps)}


def select_rules(profile: dict[str, Any], caps: tuple[str, ...], machine: str) -> list[dict[str, Any]]:
    """moby's setupSeccomp: the rules that apply to this architecture and capability set."""
    arch = _ARCHES.get(machine, (machine, ""))[0]
    have = cap_names(caps)
    selected = []
    for rule in profile.get("syscalls") or []:
        if not isinstance(rule, dict):
            raise SandboxError("seccomp profile: every entry of syscalls must be an object")
        names = list(rule.get("names") or [])
        if rule.get("name"):
            if names:
                raise SandboxError("seccomp profile: a syscalls entry has both name and names: use one")
            names = [rule["name"]]
        exc = rule.get("excludes") or {}
        inc = rule.get("includes") or {}
        if arch in (exc.get("arches") or []):
            continue
        if any(c in have for c in exc.get("caps") or []):
            continue
        if exc.get("minKernel") and _kernel_at_least(exc["minKernel"]):
            continue
        if inc.get("arches") and arch not in inc["arches"]:
            continue
        if any(c not in have for c in inc.get("caps") or []):
            continue
        if inc.get("minKernel") and not _kernel_at_least(inc["minKernel"]):
            continue
        selected.append({**rule, "names": names})
    return selected


def architectures(profile: dict[str, Any], machine: str) -> list[str]:
    arches = list(profile.get("architectures") or [])
    arch_map = profile.get("archMap") or []
    if arches and arch_map:
        raise SandboxError("seccomp profile: both architectures and archMap are set: use one of them")
    native = _ARCHES.get(machine, ("", ""))[1]
    for entry in arch_map:
        if entry.get("architecture") == native:
            arches += [entry["architecture"], *(entry.get("subArchitectures") or [])]
    return arches


# --- runc's translation into libseccomp rules ----------------------------------------------------------


def _action(sc: Any, name: str, errno_ret: int | None, source: str) -> int:
    simple = {"SCMP_ACT_KILL": sc.KILL_THREAD, "SCMP_ACT_KILL_THREAD": sc.KILL_THREAD,
              "SCMP_ACT_KILL_PROCESS": sc.KILL_PROCESS, "SCMP_ACT_TRAP": sc.TRAP, "SCMP_ACT_ALLOW": sc.ALLOW,
              "SCMP_ACT_LOG": sc.LOG}  # fmt: skip
    if name in simple:
        return int(simple[name])
    if name == "SCMP_ACT_ERRNO":
        return int(sc.ERRNO(errno.EPERM if errno_ret is None else errno_ret))
    if name == "SCMP_ACT_TRACE":
        return int(sc.TRACE(errno.EPERM if errno_ret is None else errno_ret))
    raise SandboxError(
        f"seccomp profile {source}: unsupported action {name!r}: use SCMP_ACT_ERRNO, SCMP_ACT_ALLOW, "
        "SCMP_ACT_KILL(_PROCESS|_THREAD), SCMP_ACT_TRAP, SCMP_ACT_TRACE or SCMP_ACT_LOG"
    )


def _conditions(sc: Any, args: list[dict[str, Any]], source: str) -> list[Any]:
    conds = []
    for a in args:
        op = a.get("op")
        index = a.get("index")
        if op not in _OPS:
            raise SandboxError(
                f"seccomp profile {source}: unknown argument op {op!r}: use one of {', '.join(_OPS)}"
            )
        if not isinstance(index, int) or not 0 <= index <= 5:
            raise SandboxError(f"seccomp profile {source}: argument index {index!r} must be 0..5")
        conds.append(sc.Arg(index, _OPS.index(op) + 1, int(a.get("value") or 0), int(a.get("valueTwo") or 0)))
    return conds


def _allowed_outright(rules: list[dict[str, Any]], name: str) -> bool:
    return any(
        r.get("action") == "SCMP_ACT_ALLOW" and not r.get("args") and name in r["names"] for r in rules
    )


def compile_profile(
    profile: dict[str, Any], caps: tuple[str, ...], observe: bool, source: str, machine: str
) -> tuple[bytes, bool, int, tuple[str, ...]]:
    """libseccomp BPF for the profile; returns (program, observing, default errno, notices)."""
    import tempfile

    import pyseccomp as sc

    default_name = profile.get("defaultAction")
    if not default_name:
        raise SandboxError(f"seccomp profile {source}: defaultAction is missing: add e.g. SCMP_ACT_ERRNO")
    default_errno = profile.get("defaultErrnoRet")
    default = _action(sc, default_name, default_errno, source)
    rules = select_rules(profile, caps, machine)
    notices: list[str] = []
    observing = observe and default_name == "SCMP_ACT_ERRNO"
    if observing and not all(_allowed_outright(rules, n) for n in _HANDOFF_SYSCALLS):
        observing = False
        notices.append(
            f"seccomp profile {source} does not allow sendmsg: denials are enforced but not logged"
        )
    filt = sc.SyscallFilter(sc.NOTIFY if observing else default)
    # A binary tree of syscall numbers instead of libseccomp's linear list: refused calls and
    # argument-checked ones (which the kernel's allow-cache cannot answer) run far fewer instructions.
    filt.set_attr(sc.Attr.CTL_OPTIMIZE, 2)
    for arch in architectures(profile, machine):
        token = getattr(sc.Arch, arch.removeprefix("SCMP_ARCH_"), None)
        if token is None:
            raise SandboxError(f"seccomp profile {source}: unknown architecture {arch!r}")
        if not filt.exist_arch(token):
            filt.add_arch(token)
    for rule in rules:
        action = _action(sc, rule.get("action", ""), rule.get("errnoRet"), source)
        if action == default:
            continue  # runc: libseccomp refuses rules that repeat the default action
        conds = _conditions(sc, rule.get("args") or [], source)
        split = len({c._arg for c in conds}) != len(conds)
        for name in rule["names"]:
            nr = sc.resolve_syscall(sc.Arch.NATIVE, name)
            if nr == -1:
                continue  # unknown to this libseccomp: skipped, as Docker does
            try:
                if split:
                    for c in conds:
                        filt.add_rule(action, nr, c)
                else:
                    filt.add_rule(action, nr, *conds)
            except OSError as exc:
                raise SandboxError(
                    f"seccomp profile {source}: cannot add the rule for {name}: {exc.strerror}"
                ) from None
    with tempfile.TemporaryFile() as fh:
        filt.export_bpf(fh)
        fh.seek(0)
        code = fh.read()
    return code, observing, errno.EPERM if default_errno is None else int(default_errno), tuple(notices)


# --- cache -------------------------------------------------------------------------------------------


def _libseccomp_version() -> str:
    class _Version(ctypes.Structure):
        _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]

    try:
        lib = ctypes.CDLL("libseccomp.so.2")
    except OSError:
        raise SandboxError(
            "libseccomp is not installed: install it (Debian: apt-get install libseccomp2)"
        ) from None
    lib.seccomp_version.restype = ctypes.POINTER(_Version)
    v = lib.seccomp_version().contents
    return f"{v.major}.{v.minor}.{v.micro}"


_CACHE_DIR = "seccomp"


_LD_CACHE = "/etc/ld.so.cache"


def _library_compiling() -> list[str]:
    """Which libseccomp compiled the program (loaded by now): the file mapped in this process and
    the dynamic linker's cache, by identity; its version where the mapping cannot be found.
    A cache hit checks these with two stat calls: asking libseccomp its version loads it (~0.5 ms)."""
    try:
        with open("/proc/self/maps", "rb") as fh:
            mapped = next(line.split(None, 5)[-1].strip() for line in fh if b"/libseccomp.so" in line)
        library = os.fsdecode(mapped)
        return [library, *_stamps(library)]
    except (OSError, StopIteration):  # no /proc, or a file replaced since it was loaded ("(deleted)")
        return ["version", _libseccomp_version()]


def _library_now(recorded: list[str]) -> list[str] | None:
    """`_library_compiling`'s record as it stands now (None: the library is gone)."""
    if recorded[:1] == ["version"]:
        return ["version", _libseccomp_version()]
    try:
        return [recorded[0], *_stamps(recorded[0])]
    except OSError:
        return None


def _stamps(library: str) -> list[str]:
    try:
        ld_cache = _stamp(os.stat(_LD_CACHE))
    except FileNotFoundError:
        ld_cache = ""
    return [_stamp(os.stat(library)), ld_cache]


def _read_cache(key: str, source: str, identity: str) -> Program | None:
    try:
        with open(paths.location(paths.CACHE, _CACHE_DIR, f"{key}.bpf"), "rb") as fh:
            blob = fh.read()
        header, code = blob.split(b"\n", 1)
        meta = fastjson.loads(header)
        if meta["identity"] != identity or meta["library"] != _library_now(meta["library"]):
            return None
        return Program(code, bool(meta["observe"]), int(meta["errno"]), source, key, tuple(meta["notices"]))
    except (OSError, ValueError, KeyError, TypeError, SandboxError):
        return None


def _write_cache(key: str, prog: Program, identity: str) -> None:
    from pathlib import Path  # only on a miss: the fast path does without pathlib

    from pysandbox.fsutil import atomic_write_bytes

    directory = paths.location(paths.CACHE, _CACHE_DIR)
    header = fastjson.dumps({"identity": identity, "library": _library_compiling(), "observe": prog.observe,
                             "errno": prog.default_errno, "notices": list(prog.notices)})  # fmt: skip
    try:
        os.makedirs(directory, exist_ok=True)
        atomic_write_bytes(Path(directory, f"{key}.bpf"), header.encode() + b"\n" + prog.code)
    except OSError:
        pass  # the cache is an optimisation; a read-only home must not stop a sandbox


# --- workload side -----------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def load(prog: Program) -> int | None:
    """Install the filter on the calling thread; returns the listener fd when observing."""
    nr = SYS_SECCOMP.get(os.uname().machine)
    if nr is None:
        raise SandboxError(f"seccomp is not supported by pysandbox on {os.uname().machine}")
    flags = SECCOMP_FILTER_FLAG_NEW_LISTENER if prog.observe else 0
    rc = _libc.syscall(ctypes.c_long(nr), ctypes.c_long(SECCOMP_SET_MODE_FILTER), ctypes.c_long(flags),
                       ctypes.byref(prog._fprog))  # fmt: skip
    if rc < 0:
        err = ctypes.get_errno()
        raise SandboxError(f"cannot load the seccomp filter ({prog.source}): {os.strerror(err)}")
    return int(rc) if prog.observe else None


# --- launcher side: observing denials ---------------------------------------------------------------

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif)
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp)


@record(frozen=True)
class Denial:
    """One denied syscall: `pid` in the launcher's pid namespace, `syscall` its name for `arch`."""

    pid: int
    syscall: str
    nr: int
    arch: int
    args: tuple[int, ...]


def syscall_name(arch: int, nr: int) -> str:
    try:
        lib = ctypes.CDLL("libseccomp.so.2")
    except OSError:
        return str(nr)
    lib.seccomp_syscall_resolve_num_arch.argtypes = [ctypes.c_uint32, ctypes.c_int]
    lib.seccomp_syscall_resolve_num_arch.restype = ctypes.c_void_p
    ptr = lib.seccomp_syscall_resolve_num_arch(arch, nr)
    if not ptr:
        return str(nr)
    name = ctypes.string_at(ptr).decode()
    _libc.free(ctypes.c_void_p(ptr))
    return name


def serve_notifications(listener: int, answer_errno: int, on_denial: Callable[[Denial], None],
                        stop_fd: int | None = None) -> None:  # fmt: skip
    """Answer every notification on `listener` with -answer_errno until no task uses the filter."""
    import fcntl
    import select
    import struct

    poller = select.poll()
    poller.register(listener, select.POLLIN)
    if stop_fd is not None:
        poller.register(stop_fd, select.POLLIN)
    while True:
        events = poller.poll()
        if any(fd == stop_fd for fd, _ in events):
            return
        if any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, ev in events):
            return
        buf = bytearray(80)
        try:
            fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.EINTR):
                continue  # the task was killed before we read its notification
            return
        nid, pid, _flags, nr, arch, _ip, *args = struct.unpack("=QIIiIQ6Q", buf)
        try:
            fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, struct.pack("=QqiI", nid, 0, -answer_errno, 0))
        except OSError:
            pass  # ENOENT: the task died meanwhile
        try:
            on_denial(Denial(pid, syscall_name(arch, nr), nr, arch, tuple(args)))
        except Exception:
            pass  # a failing audit sink must not stall the sandbox
