"""Seccomp: Docker's profile loads unchanged and behaves as under Docker; strict is narrower; the
compiled program is cached and later loaded without pyseccomp; denials are observable."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_x86_64

from pysandbox.policies.model import DOCKER_DEFAULT_CAPS
from pysandbox.sandbox import harden, seccomp
from pysandbox.types import SandboxError

from .childproc import in_child, libc, sys_call
from .syscall_probes import DANGEROUS, EPERM, ORDINARY, Probe

MOBY_DEFAULT_SHA256 = "691370acc2e46f4b0e02a0f8ccce1b01be0068740c41ceaaccadeca42b0cf89b"
PR_SET_NO_NEW_PRIVS = 38


def _filtered(prog: seccomp.Program | None, probes: tuple[Probe, ...]) -> dict[str, int]:
    def body() -> dict[str, int]:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        if prog is not None:
            seccomp.load(prog)
        return {p.name: p.run() for p in probes}

    result: dict[str, int] = in_child(body)
    return result


@pytest.fixture(scope="module")
def unfiltered() -> dict[str, int]:
    return _filtered(None, DANGEROUS + ORDINARY)


def test_moby_default_profile_is_stored_verbatim() -> None:
    data = (seccomp.BUILTIN_DIR / "default.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == MOBY_DEFAULT_SHA256
    doc = json.loads(data)
    assert doc["defaultAction"] == "SCMP_ACT_ERRNO" and doc["defaultErrnoRet"] == 1


def test_probes_are_not_refused_without_a_filter(unfiltered: dict[str, int]) -> None:
    # The premise of every denial below: as root and unfiltered, no probe fails with EPERM.
    assert {name: rc for name, rc in unfiltered.items() if rc == EPERM} == {}


def test_default_behaves_as_docker(unfiltered: dict[str, int]) -> None:
    prog = seccomp.plan("default", DOCKER_DEFAULT_CAPS)
    got = _filtered(prog, DANGEROUS + ORDINARY)
    denied = {p.name for p in DANGEROUS + ORDINARY if p.docker_denies}
    assert {n for n, rc in got.items() if rc == EPERM} == denied
    assert got["personality(query)"] >= 0


def test_default_clone3_is_enosys_so_glibc_falls_back() -> None:
    got = _filtered(seccomp.plan("default", ()), (Probe("clone3", "clone3", (0, 0), True),))
    assert got["clone3"] == -errno.ENOSYS


def test_default_rules_follow_capabilities() -> None:
    # With CAP_SYS_ADMIN Docker's profile allows unshare/mount/setns (includes.caps), and
    # open_by_handle_at only with CAP_DAC_READ_SEARCH.
    admin = seccomp.plan("default", (*DOCKER_DEFAULT_CAPS, "SYS_ADMIN"))
    got = _filtered(admin, DANGEROUS)
    assert got["unshare(CLONE_NEWUSER)"] != EPERM and got["mount"] != EPERM and got["setns"] != EPERM
    assert got["open_by_handle_at"] == EPERM
    dac = _filtered(seccomp.plan("default", ("DAC_READ_SEARCH",)), DANGEROUS)
    assert dac["open_by_handle_at"] != EPERM and dac["mount"] == EPERM


def test_strict_denies_every_dangerous_probe_and_allows_ordinary_calls(unfiltered: dict[str, int]) -> None:
    got = _filtered(seccomp.plan("strict", ()), DANGEROUS + ORDINARY)
    assert {p.name: got[p.name] for p in DANGEROUS if got[p.name] != EPERM} == {}
    assert {p.name: got[p.name] for p in ORDINARY if got[p.name] == EPERM} == {}


@requires_x86_64
def test_strict_kills_32bit_compat_syscalls() -> None:
    # int 0x80 enters the i386 table, which strict does not list: libseccomp's bad-arch action.
    code = b"\xb8\x14\x00\x00\x00\xcd\x80\xc3"  # mov eax, 20 (getpid); int 0x80; ret
    prog = seccomp.plan("strict", ())
    assert prog is not None
    pid = os.fork()
    if pid == 0:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        seccomp.load(prog)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_long,
        ]
        mem = libc.mmap(None, 4096, 7, 0x22, -1, 0)
        ctypes.memmove(mem, code, len(code))
        ctypes.CFUNCTYPE(ctypes.c_int)(mem)()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 31  # SIGSYS


def test_unknown_syscall_names_are_skipped_and_errno_is_honoured(tmp_path: Path) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": errno.EACCES,
        "syscalls": [
            {"names": ["no_such_syscall_psb", "getpid", "exit_group", "write", "prctl", "seccomp"],
             "action": "SCMP_ACT_ALLOW"},
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOTSUP},
        ],
    }  # fmt: skip
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile))
    prog = seccomp.plan(str(path), ())
    got = _filtered(prog, (Probe("getpid", "getpid", (), False), Probe("getppid", "getppid", (), False),
                           Probe("getuid", "getuid", (), False)))  # fmt: skip
    assert got["getpid"] > 0
    assert got["getppid"] == -errno.ENOTSUP
    assert got["getuid"] == -errno.EACCES


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"syscalls": []}', "defaultAction is missing"),
        ('{"defaultAction": "SCMP_ACT_BOGUS"}', "unsupported action"),
        ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", '
         '"args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]}', "index"),
        ('{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "archMap": '
         '[{"architecture": "SCMP_ARCH_X86_64"}]}', "both architectures and archMap"),
    ],
)  # fmt: skip
def test_bad_profiles_are_refused_with_a_reason(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SandboxError, match=message) as info:
        seccomp.plan(str(path), ())
    assert info.value.exit_code == 125


_ALLOW_READ = '{"names": ["read"], "action": "SCMP_ACT_ALLOW"'


@pytest.mark.parametrize(
    ("syscalls", "message"),
    [
        ('[{"names": "mkdir", "action": "SCMP_ACT_ERRNO"}]',
         'syscalls[0].names: must be a list of strings, not a string: write ["mkdir"]'),
        ('[{"names": ["read", 5], "action": "SCMP_ACT_ALLOW"}]', "syscalls[0].names[1]: must be a string"),
        ('[{"name": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]', "syscalls[0].name: must be a string, not a"),
        ('[{"names": ["read"]}]', "syscalls[0].action is missing"),
        ('[{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]', "syscalls[0].action: unsupported action"),
        ('[{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": -1}]', "syscalls[0].errnoRet: must"),
        (f'[{_ALLOW_READ}, "args": {{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}}}}]',
         "syscalls[0].args: must be a list, not an object"),
        (f'[{_ALLOW_READ}, "args": [{{"index": 0, "value": "1", "op": "SCMP_CMP_EQ"}}]}}]',
         "syscalls[0].args[0].value: must be an integer"),
        (f'[{_ALLOW_READ}, "args": [{{"index": 0, "value": 1}}]}}]', "syscalls[0].args[0].op is missing"),
        (f'[{_ALLOW_READ}, "includes": {{"caps": "CAP_SYS_ADMIN"}}}}]',
         'syscalls[0].includes.caps: must be a list of strings, not a string: write ["CAP_SYS_ADMIN"]'),
        (f'[{_ALLOW_READ}, "excludes": {{"minKernel": "new"}}}}]', "syscalls[0].excludes.minKernel: 'new'"),
        ('["read"]', "syscalls[0]: must be an object, not a string"),
        ('{"names": ["read"]}', "syscalls: must be a list, not an object"),
    ],
)  # fmt: skip
def test_malformed_documents_are_refused_at_their_json_path(
    tmp_path: Path, syscalls: str, message: str
) -> None:
    """moby refuses these shapes when it unmarshals the file; read loosely, `"names": "mkdir"` became
    five one-letter names, skipped as unknown syscalls: the rule was silently dropped."""
    path = tmp_path / "bad.json"
    path.write_text(f'{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {syscalls}}}')
    with pytest.raises(SandboxError) as info:
        seccomp.plan(str(path), ())
    assert str(info.value).startswith(f"seccomp profile {path}: {message}")
    assert info.value.exit_code == 125


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ('"defaultAction": 1', "defaultAction: must be a string, not a number"),
        ('"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "1"', "defaultErrnoRet: must be an integer"),
        ('"defaultAction": "SCMP_ACT_ERRNO", "architectures": "SCMP_ARCH_X86_64"',
         'architectures: must be a list of strings, not a string: write ["SCMP_ARCH_X86_64"]'),
        ('"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"subArchitectures": []}]',
         "archMap[0].architecture is missing"),
    ],
)  # fmt: skip
def test_malformed_top_level_fields_are_refused(tmp_path: Path, top: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(f"{{{top}}}")
    with pytest.raises(SandboxError) as info:
        seccomp.plan(str(path), ())
    assert str(info.value).startswith(f"seccomp profile {path}: {message}")


def test_builtin_profiles_have_docker_s_shape() -> None:
    for name in ("default", "strict"):
        seccomp.check_document(json.loads((seccomp.BUILTIN_DIR / f"{name}.json").read_bytes()), name)


def test_missing_profile_is_refused() -> None:
    with pytest.raises(SandboxError, match="use a built-in"):
        seccomp.plan("/nonexistent/seccomp.json", ())
    with pytest.raises(SandboxError, match="use a built-in"):
        seccomp.plan("no-such-builtin", ())


def test_unconfined_means_no_filter() -> None:
    assert seccomp.plan("unconfined", ()) is None


def test_cached_program_loads_without_pyseccomp(psb_home: Path) -> None:
    first = seccomp.plan("strict", ())
    assert first is not None
    cached = list((psb_home / "cache" / "seccomp").glob("*.bpf"))
    assert [p.name for p in cached] == [f"{first.digest}.bpf"]
    probe = (
        "import sys; from pysandbox.sandbox import seccomp; p = seccomp.plan('strict', ()); "
        "print(p.digest, 'pyseccomp' in sys.modules, b'libseccomp' in open('/proc/self/maps', 'rb').read())"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYSANDBOX_HOME": str(psb_home)}).stdout.split()  # fmt: skip
    assert out == [first.digest, "False", "False"]  # neither pyseccomp nor libseccomp is loaded


def _cached_header(psb_home: Path, digest: str) -> tuple[Path, dict[str, Any], bytes]:
    path = psb_home / "cache" / "seccomp" / f"{digest}.bpf"
    header, code = path.read_bytes().split(b"\n", 1)
    return path, json.loads(header), code


def _identity(path: str) -> str:
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def test_cache_names_the_libseccomp_that_compiled_it(psb_home: Path) -> None:
    first = seccomp.plan("strict", ())
    assert first is not None
    _, meta, _ = _cached_header(psb_home, first.digest)
    library, lib_stamp, ld_stamp = meta["library"]
    assert "/libseccomp.so" in library and lib_stamp == _identity(library)
    ld_cache = "/etc/ld.so.cache"
    assert ld_stamp == (_identity(ld_cache) if os.path.exists(ld_cache) else "")


@pytest.mark.parametrize("changed", ["library", "linker cache"])
def test_cache_is_stale_once_libseccomp_or_the_linker_cache_changes(
    changed: str, psb_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program compiled by another libseccomp is compiled again: the library is recorded by file
    identity (here a copy stands in for it, and the linker cache is a file of the test's)."""
    ld_cache = tmp_path / "ld.so.cache"
    ld_cache.write_bytes(b"cache")
    monkeypatch.setattr(seccomp, "_LD_CACHE", str(ld_cache))
    first = seccomp.plan("strict", ())
    assert first is not None
    path, meta, code = _cached_header(psb_home, first.digest)
    stand_in = tmp_path / "libseccomp.so.2"
    stand_in.write_bytes(Path(meta["library"][0]).read_bytes())
    meta["library"] = [str(stand_in), *seccomp._stamps(str(stand_in))]
    path.write_bytes(json.dumps(meta).encode() + b"\n" + code)
    hit = seccomp.plan("strict", ())
    assert hit is not None and (hit.code, hit.digest) == (first.code, first.digest)
    assert json.loads(path.read_bytes().split(b"\n", 1)[0])["library"][0] == str(stand_in)  # a hit
    if changed == "library":
        stand_in.write_bytes(stand_in.read_bytes())  # same bytes, a new write: another build, for all we know
    else:
        ld_cache.write_bytes(b"ldconfig ran")
    again = seccomp.plan("strict", ())
    assert again is not None and again.code == first.code
    assert json.loads(path.read_bytes().split(b"\n", 1)[0])["library"][0] != str(stand_in)  # compiled anew


def test_corrupt_cache_is_recompiled(psb_home: Path) -> None:
    first = seccomp.plan("strict", ())
    assert first is not None
    (psb_home / "cache" / "seccomp" / f"{first.digest}.bpf").write_bytes(b"{}\ngarbage")
    again = seccomp.plan("strict", ())
    assert again is not None and again.code == first.code


def test_cache_depends_on_capabilities() -> None:
    a = seccomp.plan("default", DOCKER_DEFAULT_CAPS)
    b = seccomp.plan("default", (*DOCKER_DEFAULT_CAPS, "SYS_ADMIN"))
    assert a is not None and b is not None and a.digest != b.digest and a.code != b.code


@pytest.mark.parametrize("rootless", [False, True], ids=["root", "rootless"])
def test_denials_are_observed_and_answered_with_the_profile_errno(rootless: bool, request: Any) -> None:
    from pysandbox.policies.loader import load_profile

    from .childproc import enter_rootless_userns

    user = request.getfixturevalue("test_user") if rootless else None
    uid = 0 if rootless else 65534  # a rootless single-id mapping has only root inside
    prepared = harden.prepare(load_profile("strict"), uid, uid, observe_denials=True)
    assert prepared.observing and prepared.keep_fds
    denials: list[seccomp.Denial] = []
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            if user is not None:
                enter_rootless_userns(user.uid, user.gid)
            harden.apply(prepared)  # as the workload does: caps, user, no_new_privs, seccomp last
            rcs = [sys_call(165, 0, 0, 0, 0, 0), sys_call(250, 9999, 0, 0, 0, 0), sys_call(39)]
            os.write(w, json.dumps(rcs).encode())
        finally:
            os._exit(0)
    os.close(w)
    watcher = harden.watch_denials(prepared, denials.append)
    assert watcher is not None
    try:
        with os.fdopen(r) as fh:
            rcs = json.loads(fh.read())
        os.waitpid(pid, 0)
    finally:
        watcher.close()
    assert rcs[0] == EPERM and rcs[1] == EPERM and rcs[2] > 0
    assert [(d.syscall, d.pid) for d in denials] == [("mount", pid), ("keyctl", pid)]
    assert denials[1].args[0] == 9999


def test_observation_is_off_when_the_profile_forbids_the_handoff(tmp_path: Path) -> None:
    path = tmp_path / "nosendmsg.json"
    path.write_text(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}))  # fmt: skip
    prog = seccomp.plan(str(path), (), observe=True)
    assert prog is not None and not prog.observe
    assert any("not logged" in n for n in prog.notices)
