"""capabilities.grant_non_root: what a non-root workload holds (the profile field, its validation,
--cap-add/--cap-drop, the Python API and the profile cache). The sandboxes' capability sets as
root and rootless are in test_run.py; the five sets after execve in test_harden.py."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from zlib import crc32

import pytest
from conftest import requires_root

from pysandbox.policies import capabilities, loader, model
from pysandbox.policies.loader import load_profile
from pysandbox.policies.model import DOCKER_DEFAULT_CAPS, Capabilities, Profile, UserSpec
from pysandbox.policies.overrides import Requested, apply
from pysandbox.types import SandboxError

from .childproc import status_fields

PSB = [sys.executable, "-m", "pysandbox"]
DOCKER_MASK = capabilities.mask(DOCKER_DEFAULT_CAPS)
NBS = 1 << capabilities.number("NET_BIND_SERVICE")
OUTSIDE = """\
name: outside
user: {uid: 1000, gid: 1000}
capabilities: {keep: [CHOWN], grant_non_root: [CHOWN, NET_ADMIN]}
"""
OUTSIDE_ERROR = (
    "capabilities.grant_non_root.1: NET_ADMIN is not in capabilities.keep, the most any user inside may "
    "hold: add NET_ADMIN to capabilities.keep, or remove it from grant_non_root"
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PSB, *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def test_a_grant_outside_keep_is_refused_by_validate_and_run(tmp_path: Path, busybox_rootfs: Path) -> None:
    path = tmp_path / "outside.yaml"
    path.write_text(OUTSIDE)
    done = _cli("profile", "validate", str(path))
    assert done.returncode == 2 and done.stderr == f"{path}: {OUTSIDE_ERROR}\n"
    run = _cli("run", "--rootfs", str(busybox_rootfs), "--profile", str(path), "--", "true")
    assert (
        run.returncode == 125
        and run.stderr == f"pysandbox: error: {path}: invalid profile: {OUTSIDE_ERROR}\n"
    )


def test_grant_names_are_checked_and_compared_canonically(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("name: u\ncapabilities: {keep: [CHOWN], grant_non_root: [FLY]}\n")
    done = _cli("profile", "validate", str(unknown))
    assert (
        done.returncode == 2
        and done.stderr.count("capabilities.grant_non_root.0: unknown capability 'FLY'") == 1
    )
    assert "not in capabilities.keep" not in done.stderr  # one error for one bad entry
    spelled = tmp_path / "spelled.yaml"
    spelled.write_text(
        "name: s\ncapabilities: {keep: [CAP_NET_BIND_SERVICE], grant_non_root: [net_bind_service]}\n"
    )
    assert load_profile(str(spelled)).capabilities.grant_non_root == ("net_bind_service",)


def test_a_bad_keep_does_not_also_blame_the_grant(tmp_path: Path) -> None:
    """keep refused as a whole takes its default (empty): the grant is not reported against it."""
    path = tmp_path / "badkeep.yaml"
    path.write_text("name: b\ncapabilities: {keep: 5, grant_non_root: [CHOWN]}\n")
    done = _cli("profile", "validate", str(path))
    assert done.returncode == 2 and "capabilities.keep:" in done.stderr
    assert "grant_non_root" not in done.stderr


def test_cap_add_grants_and_cap_drop_takes_back() -> None:
    default = load_profile("default")
    profile, overrides = apply(default, Requested(user=(1000, None), cap_add=("net_bind_service",)))
    assert profile.capabilities.keep == default.capabilities.keep
    assert profile.capabilities.grant_non_root == ("NET_BIND_SERVICE",)
    # within keep of a root profile: a tightening of what root would hold, recorded, not unsafe
    assert [(o.field, o.unsafe) for o in overrides if o.flag == "--cap-add"] == [
        ("capabilities.grant_non_root", False)
    ]
    strict = load_profile("strict")
    with pytest.raises(SandboxError, match="--allow-unsafe"):
        apply(strict, Requested(cap_add=("NET_BIND_SERVICE",)))
    profile, overrides = apply(strict, Requested(cap_add=("NET_BIND_SERVICE",)), allow_unsafe=True)
    assert profile.capabilities == Capabilities(("NET_BIND_SERVICE",), ("NET_BIND_SERVICE",))
    assert [(o.field, o.unsafe) for o in overrides] == [
        ("capabilities.keep", True),
        ("capabilities.grant_non_root", True),
    ]
    granted = Profile(name="g", capabilities=Capabilities(("cap_chown", "NET_RAW"), ("chown", "NET_RAW")))
    profile, overrides = apply(granted, Requested(cap_drop=("CHOWN",)))
    assert profile.capabilities == Capabilities(("NET_RAW",), ("NET_RAW",))  # cap_chown is CHOWN
    assert all(not o.unsafe for o in overrides)
    profile, _ = apply(granted, Requested(cap_drop=("ALL",)))
    assert profile.capabilities == Capabilities((), ())
    profile, _ = apply(load_profile("strict"), Requested(cap_add=("ALL",)), allow_unsafe=True)
    assert set(profile.capabilities.grant_non_root) == set(capabilities.NAMES)


def test_the_model_is_part_of_the_profile_cache_key(tmp_path: Path) -> None:
    """A profile cached by another model (here: before grant_non_root) is validated again."""
    from pysandbox import __version__, fastjson

    assert "capabilities(keep=(),grant_non_root=())" in model.shape()
    assert f"4-{crc32(model.shape().encode()):08x}" == loader._CACHE_FORMAT
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\nuser: {uid: 1000, gid: 1000}\ncapabilities: {keep: [CHOWN], grant_non_root: [CHOWN]}\n"
    )
    st = path.stat()
    real = os.path.realpath(path)
    identity = [__version__, 3, real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    stale = load_profile("default").to_dict()
    del stale["capabilities"]["grant_non_root"]
    cache = loader._cache_file(real)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    Path(cache).write_text(fastjson.dumps({"source": identity, "profile": {**stale, "name": "p"}}))
    assert load_profile(str(path)).capabilities == Capabilities(("CHOWN",), ("CHOWN",))
    assert load_profile(str(path)) == load_profile(str(path))  # now served from the new entry


def _api_status(profile: Profile | str, rootfs: Path, **kwargs: object) -> dict[str, int]:
    from pysandbox.sandbox.api import Sandbox

    with tempfile.TemporaryFile("w+") as out:
        result = Sandbox(profile, rootfs=rootfs, stdout=out, stderr=out, **kwargs).run(  # type: ignore[arg-type]
            ["cat", "/proc/self/status"]
        )
        out.seek(0)
        text = out.read()
    assert result.status == 0, text
    fields = status_fields(text)
    return {k: int(fields[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


@requires_root
def test_python_api_grants_as_the_cli_does(busybox_rootfs: Path) -> None:
    caps = Capabilities(DOCKER_DEFAULT_CAPS, ("NET_BIND_SERVICE",))
    profile = Profile(name="api", user=UserSpec(1000, 1000), capabilities=caps)
    want = {"CapInh": NBS, "CapPrm": NBS, "CapEff": NBS, "CapBnd": DOCKER_MASK, "CapAmb": NBS}
    assert _api_status(profile, busybox_rootfs) == want
    req = Requested(user=(1000, None), cap_add=("NET_BIND_SERVICE",))
    assert _api_status("default", busybox_rootfs, requested=req) == want
    assert _api_status("default", busybox_rootfs, user="1000")["CapEff"] == 0


@requires_root
def test_python_api_refuses_a_grant_outside_keep(busybox_rootfs: Path) -> None:
    from pysandbox.sandbox.api import Sandbox

    caps = Capabilities(("CHOWN",), ("CHOWN", "NET_ADMIN"))
    box = Sandbox(Profile(name="api", user=UserSpec(1000, 1000), capabilities=caps), rootfs=busybox_rootfs)
    with pytest.raises(
        SandboxError, match=r"capabilities\.grant_non_root\.1: NET_ADMIN is not in capabilities\.keep"
    ):
        box.run(["true"])
