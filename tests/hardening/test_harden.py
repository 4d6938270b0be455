"""harden.prepare/apply in a real process: what /proc/self/status and /proc/self/limits show after
execve, as root and in a rootless user namespace, for the built-in and custom profiles."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import traceback
from pathlib import Path

import pytest

from pysandbox.policies import capabilities
from pysandbox.policies.loader import load_profile
from pysandbox.policies.model import (
    DOCKER_DEFAULT_CAPS,
    Capabilities,
    Lsm,
    Profile,
    Rlimit,
    Seccomp,
    UserSpec,
)
from pysandbox.sandbox import harden
from pysandbox.types import SandboxError, UserError

from .childproc import in_child, status_fields

DOCKER_MASK = 0xA80425FB  # what `docker run` shows as CapEff for its 14 default capabilities


def _exec_after_apply(profile: Profile, uid: int, gid: int, argv: list[str],
                      rootless: tuple[int, int] | None = None) -> str:  # fmt: skip
    """Apply the profile in a child that then execs argv; returns argv's stdout."""
    prepared = harden.prepare(profile, uid, gid, tuple(profile.user.additional_gids))
    r, w = os.pipe()

    def body() -> None:
        os.dup2(w, 1)
        harden.apply(prepared)
        os.execv(argv[0], argv)

    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            in_child_body(body, rootless)
        except BaseException:
            os.write(w, traceback.format_exc().encode())
        finally:
            os._exit(99)
    os.close(w)
    with os.fdopen(r) as fh:
        out = fh.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    return out


def in_child_body(body: object, rootless: tuple[int, int] | None) -> None:
    from .childproc import enter_rootless_userns

    os.setsid()
    if rootless is not None:
        enter_rootless_userns(*rootless)
    body()  # type: ignore[operator]


def _status(profile: Profile, uid: int, gid: int, rootless: tuple[int, int] | None = None) -> dict[str, str]:
    return status_fields(_exec_after_apply(profile, uid, gid, ["/bin/cat", "/proc/self/status"], rootless))


def _caps(fields: dict[str, str]) -> dict[str, int]:
    return {k: int(fields[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def test_default_profile_as_root_matches_docker() -> None:
    fields = _status(load_profile("default"), 0, 0)
    assert _caps(fields) == {"CapInh": 0, "CapPrm": DOCKER_MASK, "CapEff": DOCKER_MASK, "CapBnd": DOCKER_MASK,
                             "CapAmb": 0}  # fmt: skip
    assert fields["NoNewPrivs"] == "1" and fields["Seccomp"] == "2"
    assert capabilities.mask(DOCKER_DEFAULT_CAPS) == DOCKER_MASK


def test_strict_profile_has_nothing() -> None:
    fields = _status(load_profile("strict"), 65534, 65534)
    assert _caps(fields) == dict.fromkeys(("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), 0)
    assert fields["NoNewPrivs"] == "1" and fields["Seccomp"] == "2"
    assert fields["Uid"].split() == ["65534"] * 4 and fields["Gid"].split() == ["65534"] * 4
    assert fields["Groups"] == ""


def test_non_root_user_keeps_granted_capabilities_through_exec() -> None:
    caps = Capabilities(keep=("NET_BIND_SERVICE", "CHOWN"), grant_non_root=("NET_BIND_SERVICE",))
    fields = _status(Profile(name="t", user=UserSpec(1000, 1000), capabilities=caps), 1000, 1000)
    bit = 1 << capabilities.number("NET_BIND_SERVICE")
    want = dict.fromkeys(("CapInh", "CapPrm", "CapEff", "CapAmb"), bit)
    assert _caps(fields) == {**want, "CapBnd": bit | 1 << capabilities.number("CHOWN")}
    assert fields["Uid"].split() == ["1000"] * 4


def test_non_root_user_holds_nothing_it_was_not_granted() -> None:
    """keep is the bounding set only: a non-root workload of the default profile cannot setuid(0),
    chown or override file permissions (Docker's and Podman's semantics)."""
    fields = _status(dataclasses.replace(load_profile("default"), user=UserSpec(1000, 1000)), 1000, 1000)
    assert _caps(fields) == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": DOCKER_MASK, "CapAmb": 0}
    assert fields["NoNewPrivs"] == "1" and fields["Seccomp"] == "2"


def test_a_grant_never_reaches_beyond_keep() -> None:
    """A Profile built in Python with a grant outside keep (validate refuses one in a file; run
    refuses it as a contradiction): the plan still holds no more than the bounding set."""
    caps = Capabilities(keep=("CHOWN",), grant_non_root=("CHOWN", "SYS_ADMIN"))
    prepared = harden.prepare(Profile(name="t", user=UserSpec(1000, 1000), capabilities=caps), 1000, 1000)
    assert prepared.caps.permitted == prepared.caps.inheritable == 1 << capabilities.number("CHOWN")
    as_root = harden.prepare(Profile(name="t", capabilities=caps), 0, 0)
    assert as_root.caps.permitted == as_root.caps.keep and as_root.caps.inheritable == 0


def test_rootless_strict_semantics(test_user: object) -> None:
    user = (test_user.uid, test_user.gid)  # type: ignore[attr-defined]
    profile = dataclasses.replace(load_profile("strict"), user=UserSpec(0, 0))  # single mapping: only 0
    fields = _status(profile, 0, 0, rootless=user)
    assert _caps(fields) == dict.fromkeys(("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), 0)
    assert fields["NoNewPrivs"] == "1" and fields["Seccomp"] == "2"


def test_rootless_default_semantics(test_user: object) -> None:
    user = (test_user.uid, test_user.gid)  # type: ignore[attr-defined]
    fields = _status(load_profile("default"), 0, 0, rootless=user)
    caps = _caps(fields)
    assert caps["CapEff"] == caps["CapPrm"] == caps["CapBnd"] == DOCKER_MASK
    assert caps["CapInh"] == caps["CapAmb"] == 0
    assert fields["NoNewPrivs"] == "1" and fields["Seccomp"] == "2"


def test_rootless_cannot_ask_for_groups_it_cannot_set(test_user: object) -> None:
    user = (test_user.uid, test_user.gid)  # type: ignore[attr-defined]
    prepared = harden.prepare(load_profile("default"), 0, 0, (5,))
    with pytest.raises(RuntimeError, match="cannot set supplementary groups"):
        in_child(lambda: harden.apply(prepared), rootless=user)


def test_unmapped_user_is_refused(test_user: object) -> None:
    user = (test_user.uid, test_user.gid)  # type: ignore[attr-defined]
    prepared = harden.prepare(load_profile("strict"), 65534, 65534)
    with pytest.raises(RuntimeError, match="SandboxError: cannot switch to uid 65534"):
        in_child(lambda: harden.apply(prepared), rootless=user)


def test_profile_may_unsafely_disable_no_new_privs() -> None:
    profile = dataclasses.replace(load_profile("default"), no_new_privs=False)
    fields = _status(profile, 0, 0)
    assert fields["NoNewPrivs"] == "0" and fields["Seccomp"] == "2"  # loaded before the capability drop
    strict_nonroot = dataclasses.replace(load_profile("strict"), no_new_privs=False)
    fields = _status(strict_nonroot, 65534, 65534)
    assert fields["NoNewPrivs"] == "0" and fields["Seccomp"] == "2" and int(fields["CapEff"], 16) == 0


def test_unconfined_seccomp_loads_no_filter() -> None:
    profile = dataclasses.replace(load_profile("default"), seccomp=Seccomp("unconfined"))
    assert _status(profile, 0, 0)["Seccomp"] == "0"


def test_rlimits_from_the_profile() -> None:
    out = _exec_after_apply(load_profile("strict"), 65534, 65534, ["/bin/cat", "/proc/self/limits"])
    limits = {line[:26].strip(): line[26:].split()[:2] for line in out.splitlines()[1:]}
    assert limits["Max open files"] == ["1024", "1024"]
    assert limits["Max processes"] == ["512", "512"]
    assert limits["Max core file size"] == ["0", "0"]
    assert limits["Max file size"] == ["1073741824", "1073741824"]


def test_rlimit_above_the_hard_limit_is_lowered_with_a_notice() -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    profile = Profile(name="t", rlimits=(Rlimit("nofile", hard + 10, hard + 10),))
    prepared = harden.prepare(profile, 0, 0)
    assert prepared.rlimits[0].hard == hard
    assert any("nofile" in n for n in prepared.notices)


@pytest.mark.parametrize(
    ("rl", "message"),
    [(Rlimit("bogus", 1, 1), "unknown rlimit 'bogus'"), (Rlimit("nofile", 10, 5), "above the hard limit")],
)
def test_bad_rlimits_are_refused(rl: Rlimit, message: str) -> None:
    with pytest.raises(SandboxError, match=message) as info:
        harden.prepare(Profile(name="t", rlimits=(rl,)), 0, 0)
    assert info.value.exit_code == 125


def test_unknown_capability_is_refused() -> None:
    with pytest.raises(SandboxError, match="unknown capability 'CAP_FLY'"):
        harden.prepare(Profile(name="t", capabilities=Capabilities(("CAP_FLY",))), 0, 0)


@pytest.mark.parametrize(
    ("lsm", "message"),
    [
        (Lsm(selinux_label="system_u:system_r:container_t:s0"), "SELinux is not available here"),
        (Lsm(apparmor_profile="docker-default"), "AppArmor is not available here"),
    ],
)
def test_lsm_without_the_lsm_is_refused(lsm: Lsm, message: str) -> None:
    # Neither SELinux nor AppArmor is enabled on this machine: the sandbox must not start unconfined.
    assert not Path("/sys/fs/selinux").exists() and not Path("/sys/module/apparmor").exists()
    with pytest.raises(SandboxError, match=message) as info:
        harden.prepare(Profile(name="t", lsm=lsm), 0, 0)
    assert info.value.exit_code == 125


def test_apparmor_unconfined_needs_no_apparmor() -> None:
    prepared = harden.prepare(Profile(name="t", lsm=Lsm(apparmor_profile="unconfined")), 0, 0)
    assert prepared.lsm.apparmor_profile is None


def test_setuid_binary_gains_nothing_under_no_new_privs(world_tmp: Path) -> None:
    suid = world_tmp / "suid-id"
    shutil.copy2("/usr/bin/id", suid)
    os.chown(suid, 0, 0)
    suid.chmod(0o4755)
    try:
        strict = load_profile("strict")
        assert _exec_after_apply(strict, 65534, 65534, [str(suid), "-u"]).strip() == "65534"
        # Control: the same binary, same user, without no_new_privs, does become root.
        unsafe = dataclasses.replace(strict, no_new_privs=False, seccomp=Seccomp("unconfined"))
        assert _exec_after_apply(unsafe, 65534, 65534, [str(suid), "-u"]).strip() == "0"
    finally:
        suid.unlink()


def test_enforced_is_truthful() -> None:
    assert {"user", "capabilities", "no_new_privs", "rlimits", "seccomp", "lsm"} == set(harden.ENFORCED)
    assert set(harden.ENFORCED) <= {f.name for f in dataclasses.fields(Profile)}


def test_capability_names_and_overrides() -> None:
    assert capabilities.canonical("cap_net_admin") == "NET_ADMIN" == capabilities.canonical("net_admin")
    assert capabilities.apply_overrides(DOCKER_DEFAULT_CAPS, ["NET_ADMIN"], ["ALL"]) == ("NET_ADMIN",)
    assert capabilities.apply_overrides(("CHOWN",), ["all"], []) == capabilities.NAMES
    assert capabilities.apply_overrides(DOCKER_DEFAULT_CAPS, [], ["CAP_CHOWN", "kill"]) == tuple(
        c for c in capabilities.validate(DOCKER_DEFAULT_CAPS) if c not in ("CHOWN", "KILL")
    )
    with pytest.raises(UserError, match="unknown capability"):
        capabilities.apply_overrides((), ["NOPE"], [])
    assert len(capabilities.NAMES) - 1 == int(Path("/proc/sys/kernel/cap_last_cap").read_text())


def test_prepare_does_not_touch_the_caller() -> None:
    before = Path("/proc/self/status").read_text()
    harden.prepare(load_profile("strict"), 65534, 65534)
    after = Path("/proc/self/status").read_text()
    keys = ("CapEff", "CapBnd", "NoNewPrivs", "Seccomp", "Uid")
    assert [status_fields(before)[k] for k in keys] == [status_fields(after)[k] for k in keys]
    assert subprocess.run(["/bin/true"]).returncode == 0
